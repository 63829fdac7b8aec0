// Renders a benchmark result as one SVG page: throughput, accept latency, ratios to Postfix, handler CPU.
import type { BenchResult } from "./report.ts";
import type { Interval } from "./stats.ts";

const COLORS = { sink: "#9e9e9e", postfix: "#3b6fb6", relay: "#e8833a" } as const;
type Series = keyof typeof COLORS;

interface Bar {
  series: Series;
  value: number;
  min?: number;
  max?: number;
}

interface Group {
  label: string;
  bars: Bar[];
  /** A second label line under the group, e.g. the sink's figure. */
  note?: string;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const text = (x: number, y: number, s: string, attrs = "") =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten at or above `v`. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function panel(box: Box, title: string, body: string): string {
  return `<g><rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="#fff" stroke="#ddd"/>${text(box.x + 10, box.y + 20, title, 'font-weight="bold"')}${body}</g>`;
}

function bars(box: Box, groups: Group[], unit: string, target?: { value: number; label: string }) {
  const plot = { x: box.x + 50, y: box.y + 45, w: box.w - 65, h: box.h - 85 };
  const top = niceMax(
    Math.max(
      target?.value ?? 0,
      ...groups.flatMap((g) => g.bars.map((b) => (Number.isFinite(b.max) ? b.max! : b.value))),
    ),
  );
  const yOf = (v: number) => plot.y + plot.h - (Math.min(v, top) / top) * plot.h;
  const out: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    out.push(
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${yOf(v)}" y2="${yOf(v)}" stroke="#eee"/>`,
      text(plot.x - 6, yOf(v) + 4, fmt(v), 'text-anchor="end" font-size="10"'),
    );
  }
  out.push(text(plot.x - 6, plot.y - 10, unit, 'text-anchor="end" font-size="10" fill="#666"'));
  const gw = plot.w / groups.length;
  groups.forEach((g, gi) => {
    const bw = Math.min(28, (gw - 16) / Math.max(1, g.bars.length));
    const x0 = plot.x + gi * gw + (gw - bw * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      if (!Number.isFinite(b.value)) return;
      const x = x0 + bi * bw;
      out.push(
        `<rect x="${x + 1}" y="${yOf(b.value)}" width="${bw - 2}" height="${plot.y + plot.h - yOf(b.value)}" fill="${COLORS[b.series]}"/>`,
        text(x + bw / 2, yOf(b.value) - 3, fmt(b.value), 'text-anchor="middle" font-size="9"'),
      );
      if (Number.isFinite(b.min) && Number.isFinite(b.max) && b.min !== b.max)
        out.push(
          `<line x1="${x + bw / 2}" x2="${x + bw / 2}" y1="${yOf(b.min!)}" y2="${yOf(b.max!)}" stroke="#333"/>`,
        );
    });
    const cx = plot.x + gi * gw + gw / 2;
    out.push(text(cx, plot.y + plot.h + 14, g.label, 'text-anchor="middle" font-size="10"'));
    if (g.note)
      out.push(
        text(cx, plot.y + plot.h + 27, g.note, 'text-anchor="middle" font-size="9" fill="#666"'),
      );
  });
  if (target)
    out.push(
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${yOf(target.value)}" y2="${yOf(target.value)}" stroke="#c62828" stroke-dasharray="5,3"/>`,
      text(plot.x + 4, yOf(target.value) - 4, target.label, 'font-size="10" fill="#c62828"'),
    );
  return out.join("");
}

function ratioBars(
  box: Box,
  ratios: Record<string, number | null>,
  intervals: Record<string, Interval | null> = {},
): string {
  const entries = Object.entries(ratios);
  const plot = { x: box.x + 150, y: box.y + 35, w: box.w - 175, h: box.h - 55 };
  const top = Math.max(2, ...entries.map(([, v]) => v ?? 0));
  const xOf = (v: number) => plot.x + (Math.min(v, top) / top) * plot.w;
  const rh = plot.h / Math.max(1, entries.length);
  const out = entries.map(([k, v], i) => {
    const y = plot.y + i * rh;
    const value = v ?? 0;
    const color = value >= 1 ? "#2e7d32" : "#c62828";
    return [
      text(plot.x - 6, y + rh / 2 + 4, k, 'text-anchor="end" font-size="10"'),
      `<rect x="${plot.x}" y="${y + 2}" width="${xOf(value) - plot.x}" height="${rh - 4}" fill="${color}" opacity="0.8"/>`,
      text(
        Math.max(xOf(value), xOf(intervals[k]?.high ?? 0)) + 4,
        y + rh / 2 + 4,
        v === null ? "n/a" : `${v}`,
        'font-size="10"',
      ),
      whisker(intervals[k], xOf, y + rh / 2),
    ].join("");
  });
  out.push(
    `<line x1="${xOf(1)}" x2="${xOf(1)}" y1="${plot.y}" y2="${plot.y + plot.h}" stroke="#333" stroke-dasharray="4,3"/>`,
    text(xOf(1), plot.y - 4, "1.0 = Postfix", 'text-anchor="middle" font-size="10"'),
  );
  return out.join("");
}

/** A ratio's 95 % interval as a line across its bar, where the bench measured one. */
function whisker(i: Interval | null | undefined, xOf: (v: number) => number, y: number): string {
  if (!i) return "";
  const [a, b] = [xOf(i.low), xOf(i.high)];
  return `<path d="M${a} ${y - 4}V${y + 4}M${a} ${y}H${b}M${b} ${y - 4}V${y + 4}" stroke="#222" fill="none"><title>95 % interval ${i.low}–${i.high}</title></path>`;
}

function legend(x: number, y: number): string {
  return (Object.keys(COLORS) as Series[])
    .map(
      (s, i) =>
        `<rect x="${x + i * 170}" y="${y - 10}" width="12" height="12" fill="${COLORS[s]}"/>${text(x + i * 170 + 16, y, s === "sink" ? "sink alone (limit)" : s === "relay" ? "connector-relay" : "Postfix")}`,
    )
    .join("");
}

export function renderChart(r: BenchResult): string {
  const W = 1100;
  const H = 830;
  const half = (W - 30) / 2;
  const boxes = {
    tp: { x: 10, y: 56, w: half, h: 340 },
    lat: { x: 20 + half, y: 56, w: half, h: 340 },
    ratio: { x: 10, y: 406, w: half, h: 340 },
    cpu: { x: 20 + half, y: 406, w: half, h: 340 },
  };
  const spreadBar = (series: Series, s: { median: number; min: number; max: number }): Bar => ({
    series,
    value: s.median,
    min: s.min,
    max: s.max,
  });
  const tpGroups: Group[] = (["newconn", "reuse"] as const).flatMap((shape) => {
    const t = r.throughput[shape];
    const label = shape === "newconn" ? "conn/msg" : "reuse";
    return [
      {
        label: `${label} accept`,
        note: `sink alone: ${t.sink.accept.median}`,
        bars: [spreadBar("postfix", t.postfix.accept), spreadBar("relay", t.relay.accept)],
      },
      {
        label: `${label} end-to-end`,
        bars: [spreadBar("postfix", t.postfix.e2e), spreadBar("relay", t.relay.e2e)],
      },
    ];
  });
  const latGroups: Group[] = (["s1", "s10"] as const).flatMap((s) =>
    (["p50", "p99"] as const).map((k) => ({
      label: `${s === "s1" ? "1 session" : "10 sessions"} ${k}`,
      bars: (["sink", "postfix", "relay"] as const).map((series) => ({
        series,
        value: r.latency[s][series].dot[k],
      })),
    })),
  );
  const h = r.handlers;
  const cpuGroups: Group[] = [
    { label: "route", bars: [{ series: "relay", value: h.routeCpuMs }] },
    {
      label: "deliver (excl. network)",
      bars: [{ series: "relay", value: h.deliverExclNetworkCpuMs }],
    },
    { label: "SMTP client (network)", bars: [{ series: "sink", value: h.courierCpuMs }] },
    { label: "route + deliver", bars: [{ series: "relay", value: h.routePlusDeliverCpuMs }] },
  ];
  const b = r.bundles;
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const bundleNote = (["route", "deliver"] as const)
    .map(
      (fn) =>
        `${fn} bundle ${kib(b[fn].bytes)} (gzip ${kib(b[fn].gzipBytes)}), cold import ${b[fn].coldImportMs.median} ms`,
    )
    .map((line, i) => text(boxes.cpu.x + 60, boxes.cpu.y + 80 + i * 14, line, 'font-size="10"'))
    .join("");
  const p = r.params;
  const m = r.machine;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<title>${esc(`connector-relay vs Postfix: throughput, accept latency, ratios and handler CPU (${r.startedAt})`)}</title>
<rect width="${W}" height="${H}" fill="#fafafa"/>
${text(10, 22, `connector-relay vs Postfix ${m.postfix ?? ""} — ${p.messages} msgs × ${p.sizeBytes} B, ${p.sessions} sessions, ${p.reps} runs, fsync on — ${r.startedAt}`, 'font-weight="bold" font-size="14"')}
${legend(10, 44)}
${panel(boxes.tp, "Throughput (msgs/s; median, whiskers min–max)", bars(boxes.tp, tpGroups, "msgs/s"))}
${panel(boxes.lat, "Accept latency: final dot → 250 (ms)", bars(boxes.lat, latGroups, "ms", { value: 10, label: "target p99 ≤ 10 ms (10 sessions)" }))}
${panel(boxes.ratio, "connector-relay ÷ Postfix (> 1: relay better; ├┤ 95 % interval)", ratioBars(boxes.ratio, r.ratios, r.ratioIntervals))}
${panel(boxes.cpu, "Handler CPU per message (ms)", bars(boxes.cpu, cpuGroups, "ms", { value: 5, label: "target ≤ 5 ms" }) + bundleNote)}
${text(10, H - 62, `machine: ${m.cpus} CPUs ${m.cpu ?? ""}, ${m.kernel ?? ""}, spool fs ${m.spoolFs ?? ""}; busy during runs ${Math.min(...r.noise.machineBusyPct)}–${Math.max(...r.noise.machineBusyPct)}%, other processes ${Math.min(...r.noise.otherCpuPct)}–${Math.max(...r.noise.otherCpuPct)}%`, 'font-size="10" fill="#555"')}
${r.targets
  .map((t, i) =>
    text(
      10 + (i % 2) * (half + 10),
      H - 44 + Math.floor(i / 2) * 14,
      `${t.met ? "✓ met" : "✗ missed"}: ${t.name} = ${t.value ?? "n/a"} (${t.goal})`,
      `font-size="10" fill="${t.met ? "#2e7d32" : "#c62828"}"`,
    ),
  )
  .join("")}
</svg>
`;
}
