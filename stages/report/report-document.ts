/**
 * The whole report as data, before it is rendered to Markdown, HTML and JSON.
 */
import type { Provenance } from '../lib/provenance.js';
import type { ReportHeader } from './report-header.js';
import type { OmittedTable, ReportTable } from './table-model.js';

export interface RenderedPlot {
  /** stable id: file name stem and HTML anchor */
  id: string;
  title: string;
  caption: string;
  /** the SVG markup (ids prefixed with the plot id) */
  svg: string;
  /** the Vega-Lite spec it was rendered from (written next to the SVG, for re-rendering or editing) */
  spec: unknown;
  /** the vega mark types the plot must contain (`bar`→rect, `line`, `symbol`, `rule`, `area`), for checks */
  marks: string[];
}

export interface OmittedPlot {
  id: string;
  title: string;
  reason: string;
}

export interface ReportSection {
  id: string;
  title: string;
  intro: string;
  tables: ReportTable[];
  plots: RenderedPlot[];
  omitted: (OmittedTable | OmittedPlot)[];
}

/**
 * One upstream stage as the provenance table shows it: what its output says about itself (provenance.json), and
 * what the engine recorded about the execution that produced it (null where the engine did not say, e.g. a test
 * that builds the context by hand).
 */
export interface SourceStage {
  stageId: string;
  /** input name of the report kind it came through, e.g. "evals" */
  input: string;
  matrix: Readonly<Record<string, string | number | boolean>>;
  runId: number | null;
  /** the stage's key (sha256 hex) */
  key: string | null;
  /** when the producing execution finished, ISO 8601 (UTC) */
  finishedAt: string | null;
  host: string | null;
  /** the backend the execution recorded (annotation "backend"), else the one in provenance.json */
  backend: string | null;
  /** null when the stage wrote no (readable) provenance.json */
  provenance: Provenance | null;
}

export interface SmokeVerdict {
  smoke: boolean;
  /** why: which stages used a random model or a synthetic dataset */
  reasons: string[];
}

export interface ReportDocument {
  title: string;
  behavior: string;
  /** the report stage itself */
  builtBy: { stageId: string; runId: string | null; stageKey: string | null; created: string };
  /** what produced it: profile, overrides, changed params, pipeline hash, git commit, wsflow version, backends */
  header: ReportHeader;
  smoke: SmokeVerdict;
  /** problems a reader must know about (missing provenance, mixed targets …) */
  warnings: string[];
  sections: ReportSection[];
  sources: SourceStage[];
}
