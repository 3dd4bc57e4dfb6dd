// Smoothing of a line as W&B's "exponential moving average" does it (the same as TensorBoard's):
// each point is the exponentially weighted average of the points up to it, debiased so that the
// first points are not pulled towards zero:
//
//   last = last * w + (1 - w) * y;  n += 1;  smoothed = last / (1 - w ** n)
//
// with the weight w in [0, 1) (0: no smoothing). Points that are not finite numbers are left as they
// are and do not count.

export function ema(ys: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(ys.length);
  const w = Math.min(Math.max(weight, 0), 0.999);
  let last = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (!Number.isFinite(y)) {
      out[i] = y;
      continue;
    }
    last = last * w + (1 - w) * y;
    n++;
    out[i] = w === 0 ? y : last / (1 - w ** n);
  }
  return out;
}
