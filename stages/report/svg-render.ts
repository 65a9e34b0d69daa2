/**
 * Vega-Lite spec → SVG text, on the server: vega-lite compiles, vega renders headless with View.toSVG().
 * No browser, no canvas, no network: the loader refuses every request, so a spec that names a URL fails here
 * instead of producing a page that fetches at view time.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const refusingLoader: vega.Loader = {
  load: (uri: string) => Promise.reject(new Error(`report plots must be self-contained; refused to load ${uri}`)),
  sanitize: (uri: string) => Promise.reject(new Error(`report plots must be self-contained; refused to load ${uri}`)),
  http: (uri: string) => Promise.reject(new Error(`report plots must be self-contained; refused to fetch ${uri}`)),
  file: (path: string) => Promise.reject(new Error(`report plots must be self-contained; refused to read ${path}`)),
};

/**
 * Renders one spec. `idPrefix` makes the SVG's internal ids (clip paths, gradients) unique, because several
 * plots share one HTML document and a duplicated id would clip one plot with another's rectangle.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', loader: refusingLoader, logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    return prefixSvgIds(svg, idPrefix);
  } finally {
    view.finalize();
  }
}

export function prefixSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/(xlink:)?href="#([^"]+)"/g, (_m, xl: string | undefined, id: string) => `${xl ?? ''}href="#${prefix}-${id}"`);
}
