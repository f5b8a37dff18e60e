// Inline SVG line and area charts for the quick-test report (equity vs benchmark, drawdown).
// Pure string rendering: no scripts, no external assets, no xmlns URL (inline SVG in HTML needs none).
import { escapeHtml, formatNumber, isNumber } from "./format";

export interface Series {
  name: string;
  values: (number | null | undefined)[];
  /** CSS class of the line: chart-line-0, chart-line-1… */
  cssClass: string;
}

export interface ChartOptions {
  title: string;
  dates: string[];
  series: Series[];
  width?: number;
  height?: number;
  /** Format of the y axis ticks. */
  yFormat?: (v: number) => string;
  /** Fill the area between the first series and zero (drawdown). */
  area?: boolean;
  /** At most this many points per series are drawn (evenly sampled, last point kept). */
  maxPoints?: number;
}

const PAD = { left: 64, right: 16, top: 28, bottom: 36 };

/** Indexes kept when a series of `n` points is drawn with at most `max` points. */
export function sampleIndexes(n: number, max: number): number[] {
  if (n <= max || max < 2) {
    return Array.from({ length: n }, (_, i) => i);
  }
  const step = (n - 1) / (max - 1);
  const out: number[] = [];
  for (let k = 0; k < max; k++) {
    out.push(Math.round(k * step));
  }
  return [...new Set(out)];
}

/** "Nice" tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    return [];
  }
  if (min === max) {
    return [min];
  }
  const raw = (max - min) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

function fmt(n: number): string {
  return n.toFixed(1);
}

export function renderLineChart(opts: ChartOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 260;
  const yFormat = opts.yFormat ?? ((v: number) => formatNumber(v, 2));
  const n = opts.dates.length;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const all = opts.series.flatMap((s) => s.values.filter(isNumber));
  const title = `<text class="chart-title" x="${PAD.left}" y="18">${escapeHtml(opts.title)}</text>`;
  if (n < 2 || all.length === 0) {
    return (
      `<svg class="chart" role="img" aria-label="${escapeHtml(opts.title)}" viewBox="0 0 ${width} ${height}" width="100%">` +
      `${title}<text class="chart-empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">No data</text></svg>`
    );
  }
  let min = Math.min(...all);
  let max = Math.max(...all);
  if (opts.area) {
    min = Math.min(min, 0);
    max = Math.max(max, 0);
  }
  if (min === max) {
    min -= 1;
    max += 1;
  }
  const x = (i: number): number => PAD.left + (plotW * i) / (n - 1);
  const y = (v: number): number => PAD.top + plotH * (1 - (v - min) / (max - min));
  const idx = sampleIndexes(n, opts.maxPoints ?? 600);

  const parts: string[] = [];
  parts.push(
    `<svg class="chart" role="img" aria-label="${escapeHtml(opts.title)}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMidYMid meet">`,
  );
  parts.push(title);
  for (const t of niceTicks(min, max)) {
    const ty = fmt(y(t));
    parts.push(`<line class="chart-grid" x1="${PAD.left}" x2="${width - PAD.right}" y1="${ty}" y2="${ty}"/>`);
    parts.push(`<text class="chart-tick" x="${PAD.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${escapeHtml(yFormat(t))}</text>`);
  }
  for (const i of sampleIndexes(n, 5)) {
    parts.push(
      `<text class="chart-tick" x="${fmt(x(i))}" y="${height - PAD.bottom + 16}" text-anchor="${i === 0 ? "start" : i === n - 1 ? "end" : "middle"}">${escapeHtml(opts.dates[i] ?? "")}</text>`,
    );
  }
  parts.push(`<line class="chart-axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${height - PAD.bottom}"/>`);
  parts.push(`<line class="chart-axis" x1="${PAD.left}" x2="${width - PAD.right}" y1="${height - PAD.bottom}" y2="${height - PAD.bottom}"/>`);

  opts.series.forEach((s, si) => {
    // A gap (null) breaks the line into segments.
    const segments: string[][] = [];
    let current: string[] = [];
    for (const i of idx) {
      const v = s.values[i];
      if (isNumber(v)) {
        current.push(`${fmt(x(i))},${fmt(y(v))}`);
      } else if (current.length) {
        segments.push(current);
        current = [];
      }
    }
    if (current.length) {
      segments.push(current);
    }
    for (const seg of segments) {
      if (opts.area && si === 0 && seg.length > 1) {
        const first = seg[0]?.split(",")[0] ?? "0";
        const last = seg[seg.length - 1]?.split(",")[0] ?? "0";
        const zero = fmt(y(0));
        parts.push(`<polygon class="chart-area ${s.cssClass}" points="${first},${zero} ${seg.join(" ")} ${last},${zero}"/>`);
      }
      parts.push(`<polyline class="chart-line ${s.cssClass}" fill="none" points="${seg.join(" ")}"/>`);
    }
  });

  // Legend
  let lx = PAD.left + plotW;
  [...opts.series].reverse().forEach((s) => {
    const label = escapeHtml(s.name);
    lx -= 14 + s.name.length * 7 + 16;
    parts.push(`<line class="chart-line ${s.cssClass}" x1="${lx}" x2="${lx + 12}" y1="14" y2="14"/>`);
    parts.push(`<text class="chart-legend" x="${lx + 16}" y="18">${label}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

/** The series as drawn: divided by its first value when that is positive (growth of 1), else as given. */
export function growthOrRaw(values: (number | null | undefined)[]): { values: (number | null)[]; normalized: boolean } {
  const first = values.find(isNumber);
  return first === undefined || first <= 0
    ? { values: values.map((v) => (isNumber(v) ? v : null)), normalized: false }
    : { values: normalize(values), normalized: true };
}

/** Divides a series by its first positive value, so equity and benchmark both start at 1. */
export function normalize(values: (number | null | undefined)[]): (number | null)[] {
  const base = values.find((v): v is number => isNumber(v) && v > 0);
  return values.map((v) => (isNumber(v) && base !== undefined ? v / base : null));
}
