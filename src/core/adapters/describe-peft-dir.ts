/**
 * A summary of a PEFT adapter directory without loading a model (for `wsflow adapter info`).
 */
import { adapterTypeOf } from './adapter-config.js';
import type { AdapterType, ModuleSelector } from './adapter-config.js';
import { PEFT_KEY_PREFIX, readPeftDir } from './peft-dir.js';

export interface PeftDirInfo {
  dir: string;
  peftType: string;
  adapterType: AdapterType;
  targetModules: ModuleSelector;
  layersToTransform: number | number[] | null;
  tensors: number;
  parameters: number;
  modules: number;
  warnings: string[];
}

export function describePeftDir(dir: string): PeftDirInfo {
  const peft = readPeftDir(dir);
  const modules = new Set<string>();
  let parameters = 0;
  for (const [key, t] of peft.tensors) {
    parameters += t.data.length;
    const rest = key.startsWith(PEFT_KEY_PREFIX) ? key.slice(PEFT_KEY_PREFIX.length) : key;
    const m = /^(.*_proj)\./.exec(rest);
    modules.add(m?.[1] ?? rest);
  }
  return {
    dir,
    peftType: peft.config.peft_type,
    adapterType: adapterTypeOf(peft.config),
    targetModules: peft.config.target_modules,
    layersToTransform: peft.config.peft_type === 'IA3' ? null : peft.config.layers_to_transform,
    tensors: peft.tensors.size,
    parameters,
    modules: modules.size,
    warnings: peft.warnings,
  };
}
