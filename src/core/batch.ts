/**
 * Token batches: rectangular ids with a 0/1 attention mask. Rows may be padded on the right (training,
 * scoring) or on the left (generation, last-token scoring); positions are derived from the mask, so a padded
 * row gives the same numbers as the unpadded sequence on its own whichever side the padding is on.
 */

export interface TokenBatch {
  /** [B][S] token ids */
  ids: number[][];
  /** [B][S] 1 for a real token, 0 for padding */
  mask: number[][];
}

export type PadSide = 'right' | 'left';

/** Pad sequences to a rectangle. */
export function padBatch(seqs: readonly (readonly number[])[], padId: number, side: PadSide = 'right'): TokenBatch {
  if (seqs.length === 0) throw new Error('padBatch: no sequences');
  const s = Math.max(...seqs.map((q) => q.length));
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (const q of seqs) {
    const pad = s - q.length;
    const padIds = new Array<number>(pad).fill(padId);
    const zeros = new Array<number>(pad).fill(0);
    const ones = new Array<number>(q.length).fill(1);
    ids.push(side === 'right' ? [...q, ...padIds] : [...padIds, ...q]);
    mask.push(side === 'right' ? [...ones, ...zeros] : [...zeros, ...ones]);
  }
  return { ids, mask };
}

/** Check shape and values; returns the batch with a default all-ones mask. Errors name the row and column. */
export function checkBatch(ids: readonly (readonly number[])[], mask: readonly (readonly number[])[] | undefined, vocabSize: number): TokenBatch {
  if (!Array.isArray(ids) || ids.length === 0) throw new Error('token batch is empty (expected ids as [batch][seq])');
  const s = ids[0]?.length ?? 0;
  if (s === 0) throw new Error('token batch row 0 is empty');
  const outIds: number[][] = [];
  const outMask: number[][] = [];
  for (let b = 0; b < ids.length; b++) {
    const row = ids[b] as readonly number[];
    if (!Array.isArray(row) || row.length !== s) throw new Error(`token batch row ${b} has ${Array.isArray(row) ? row.length : 'no'} ids, expected ${s} (pad rows to the same length; see padBatch)`);
    for (let j = 0; j < s; j++) {
      const v = row[j] as number;
      if (!Number.isInteger(v) || v < 0 || v >= vocabSize) throw new Error(`token id ${String(v)} at row ${b}, position ${j} is outside the vocabulary [0, ${vocabSize})`);
    }
    outIds.push([...row]);
    if (mask === undefined) outMask.push(new Array<number>(s).fill(1));
    else {
      const m = mask[b];
      if (m === undefined || m.length !== s) throw new Error(`attention mask row ${b} has ${m?.length ?? 'no'} entries, expected ${s}`);
      let real = 0;
      for (let j = 0; j < s; j++) {
        const v = m[j];
        if (v !== 0 && v !== 1) throw new Error(`attention mask at row ${b}, position ${j} is ${String(v)}, expected 0 or 1`);
        real += v;
      }
      if (real === 0) throw new Error(`attention mask row ${b} has no real tokens`);
      outMask.push([...m]);
    }
  }
  if (mask !== undefined && mask.length !== ids.length) throw new Error(`attention mask has ${mask.length} rows but ids have ${ids.length}`);
  return { ids: outIds, mask: outMask };
}

/** Position of each token = number of real tokens before it in its row (padding gets the next position). */
export function positionsFromMask(mask: readonly (readonly number[])[], offsets?: readonly number[]): number[][] {
  return mask.map((row, b) => {
    let p = offsets?.[b] ?? 0;
    return row.map((m) => {
      const here = p;
      if (m === 1) p++;
      return here;
    });
  });
}

/** Index of the last real token of each row. */
export function lastRealIndex(mask: readonly (readonly number[])[]): number[] {
  return mask.map((row, b) => {
    for (let j = row.length - 1; j >= 0; j--) if (row[j] === 1) return j;
    throw new Error(`attention mask row ${b} has no real tokens`);
  });
}
