// A uPlot chart sized to its box (it follows the box's width) and coloured from the stylesheet's
// custom properties, so it reads in the dark colours as well. Only the pages that chart import
// this file, so uPlot and its stylesheet load with them and not with the first page.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./chart.css";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

/** Colours for series, in order, from the stylesheet's --chart-N properties. */
function palette(): string[] {
  const style = getComputedStyle(document.body);
  const out: string[] = [];
  for (let i = 1; i <= 6; i++) out.push(style.getPropertyValue(`--chart-${i}`).trim() || "#0a58ca");
  return out;
}

const colourOf = (colours: string[], i: number): string => colours[i % colours.length] ?? "#0a58ca";

export function Chart(props: {
  /** x values: Unix seconds for time, else 0…n-1 with `labels` naming them. */
  x: number[];
  series: ChartSeries[];
  /** Bars instead of lines (for one series: bars of several series would overlap). */
  bars?: boolean;
  labels?: string[];
  yFormat?: (value: number) => string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const { x, series, bars, labels, yFormat, height } = props;
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const style = getComputedStyle(document.body);
    const fg = style.color;
    const line = style.getPropertyValue("--line").trim() || "#d0d7de";
    const colours = palette();
    const barPaths = bars === true ? uPlot.paths.bars?.({ size: [0.6, 60], align: 0 }) : undefined;
    const axis = { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: height ?? 220,
      scales: {
        x:
          labels === undefined
            ? { time: true }
            : { time: false, range: (_u: uPlot, min: number, max: number) => [min - 0.5, max + 0.5] },
      },
      axes: [
        {
          ...axis,
          ...(labels === undefined
            ? {}
            : { splits: () => x, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => labels[t] ?? "") }),
        },
        {
          ...axis,
          size: 70,
          ...(yFormat === undefined ? {} : { values: (_u, ticks) => ticks.map(yFormat) }),
        },
      ],
      series: [
        {
          label: labels === undefined ? "Day" : "Name",
          ...(labels === undefined ? {} : { value: (_u, v) => labels[v] ?? "" }),
        },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: colourOf(colours, i),
          width: 2,
          ...(bars === true && barPaths !== undefined ? { fill: colourOf(colours, i), paths: barPaths } : {}),
          ...(yFormat === undefined
            ? {}
            : { value: (_u: uPlot, v: number | null) => (v === null ? "—" : yFormat(v)) }),
        })),
      ],
    };
    const plot = new uPlot(options, [x, ...series.map((s) => s.values)], el);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(200, el.clientWidth), height: height ?? 220 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, bars, labels, yFormat, height]);
  return <div ref={box} className="chart" />;
}
