/**
 * The held-out Yes/No claims an eval-iid stage scores: the behaviour definition's `iid` (data/behaviors/<name>.yaml)
 * when the stage names a behaviour, else study-ref §11's 12 held-out claims. Checked at planning and again by the
 * stage, with the same one-line messages.
 */
import { err, ok, type Result } from '../../src/contract/result.js';
import { behaviorFile, loadBehaviorDefinition } from './behavior-definition.js';
import { heldOutClaims, IID_ANCHOR, IID_PROMPT_TEMPLATE, N_HELD_OUT_CLAIMS } from './prompts.js';

export interface IidPrompt {
  /** the first n claims */
  claims: string[];
  template: string;
  anchor: string;
  /** the behaviour definition they came from (an external input), null for the built-in claims */
  file: string | null;
}

export function iidPrompt(projectDir: string, behavior: string | null, n: number): Result<IidPrompt, string> {
  if (behavior === null) {
    if (n > N_HELD_OUT_CLAIMS) return err(`n_held_out is ${n} but study-ref §11 has ${N_HELD_OUT_CLAIMS} held-out claims`);
    return ok({ claims: heldOutClaims(n), template: IID_PROMPT_TEMPLATE, anchor: IID_ANCHOR, file: null });
  }
  const file = behaviorFile(projectDir, behavior);
  const def = loadBehaviorDefinition(file);
  if (!def.ok) return def;
  const iid = def.value.iid;
  if (iid === null) return err(`${file}: behaviour ${behavior} has no \`iid\` (the held-out claims of its Yes/No eval); add iid: {claims: [...]} or drop the stage's behavior param`);
  if (n > iid.claims.length) return err(`n_held_out is ${n} but ${file} has ${iid.claims.length} iid claims`);
  return ok({ claims: iid.claims.slice(0, n), template: iid.template, anchor: iid.anchor, file });
}
