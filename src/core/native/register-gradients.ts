/**
 * tfjs-core's Node bundle ships no gradient configs (only the `@tensorflow/tfjs` union package
 * registers them). Its dist/ ESM tree has them, but with extensionless relative imports; a resolve
 * hook that retries with `.js` / `/index.js` inside @tensorflow/ lets Node load that tree. The copies
 * share the global engine and registries with the bundle, so registered gradients apply to it.
 */
import { register } from 'node:module';
import { registerNativeGradients } from './native-gradients.js';

const hook = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const parent = context.parentURL ?? '';
    if (!(specifier.startsWith('./') || specifier.startsWith('../')) || !parent.includes('/@tensorflow/')) throw err;
    try { return await next(specifier + '.js', context); } catch { return next(specifier + '/index.js', context); }
  }
}`;

let done: Promise<void> | undefined;

export function registerAllGradients(): Promise<void> {
  done ??= (async () => {
    register('data:text/javascript,' + encodeURIComponent(hook));
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js' as string);
    registerNativeGradients();
  })();
  return done;
}
