// Where a chart's value axis starts and ends: around every value it shows (thresholds and marks
// included), a little beyond them, on a linear or a log scale; or, when outliers are to be ignored,
// around the values between the 5th and 95th percentile (what W&B's "ignore outliers" does).

export interface Extent {
  min: number;
  max: number;
}

/** The share of the span added on each side, so that no line runs along the plot's edge. */
const PAD = 0.05;

/** Collects the values a chart shows, and says where its axis should start and end. */
export class Range {
  private lo = Infinity;
  private hi = -Infinity;
  private positiveLo = Infinity;
  private all: number[] | null;
  /** Whether every value is above zero (a log scale can show them all). */
  positive = true;
  count = 0;

  constructor(keepValues = false) {
    this.all = keepValues ? [] : null;
  }

  /** The lowest and highest value added (Infinity and -Infinity before any). */
  get low(): number {
    return this.lo;
  }

  get high(): number {
    return this.hi;
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.count++;
    if (value < this.lo) this.lo = value;
    if (value > this.hi) this.hi = value;
    if (value > 0) {
      if (value < this.positiveLo) this.positiveLo = value;
    } else {
      this.positive = false;
    }
    if (this.all) this.all.push(value);
  }

  addAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.add(values[i]);
  }

  /** The axis's extent: null when there is nothing to show. ``log`` assumes ``positive``. */
  extent(log: boolean, ignoreOutliers = false): Extent | null {
    if (!this.count) return null;
    let lo = this.lo;
    let hi = this.hi;
    if (ignoreOutliers && this.all && this.all.length >= 20) {
      const sorted = Float64Array.from(this.all).sort();
      lo = quantile(sorted, 0.05);
      hi = quantile(sorted, 0.95);
    }
    if (log) {
      lo = Math.max(lo, this.positiveLo);
      if (!(lo > 0)) return null;
      const [a, b] = padded(Math.log10(lo), Math.log10(hi), true);
      return { min: 10 ** a, max: 10 ** b };
    }
    const [a, b] = padded(lo, hi, false);
    return { min: a, max: b };
  }
}

function quantile(sorted: Float64Array, q: number): number {
  const at = (sorted.length - 1) * q;
  const i = Math.floor(at);
  return i + 1 < sorted.length ? sorted[i] + (sorted[i + 1] - sorted[i]) * (at - i) : sorted[i];
}

function padded(lo: number, hi: number, log: boolean): [number, number] {
  let span = hi - lo;
  if (span <= 0) span = log ? 0.5 : Math.abs(hi) * 0.1 || 1;
  return [lo - span * PAD, hi + span * PAD];
}
