import type { Lifecycle } from '../types.js';

const MIN_NODE_W = 168;
/** Width per character of a label: the diagram's labels are 11 px monospace (0.6 em a character), with some room to spare. */
const LABEL_CHAR_W = 7;
const NODE_H = 34;
const GAP_X = 56;
const GAP_Y = 18;
const PAD = 8;

/**
 * Columns by the longest path from an initial status over the moves forward, so every
 * move goes left to right; a move back (a lifecycle may have cycles) is found by a
 * depth-first walk and drawn as a curve under the boxes.
 */
export function layoutLifecycle(lifecycle: Lifecycle): Map<string, { column: number; row: number }> {
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (from: string) => {
    state.set(from, 'open');
    for (const to of lifecycle.transitions[from] ?? []) {
      if (state.get(to) === 'open') back.add(`${from}>${to}`);
      else if (!state.has(to)) visit(to);
    }
    state.set(from, 'done');
  };
  for (const s of [...lifecycle.initial, ...lifecycle.statuses]) if (!state.has(s)) visit(s);

  const column = new Map<string, number>(lifecycle.statuses.map((s) => [s, 0]));
  // Without back edges the graph is acyclic: |statuses| rounds settle every longest path.
  for (let round = 0; round < lifecycle.statuses.length; round++) {
    let changed = false;
    for (const from of lifecycle.statuses) {
      for (const to of lifecycle.transitions[from] ?? []) {
        if (back.has(`${from}>${to}`)) continue;
        const next = (column.get(from) ?? 0) + 1;
        if ((column.get(to) ?? 0) < next) {
          column.set(to, next);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  const rows = new Map<number, number>();
  const place = new Map<string, { column: number; row: number }>();
  for (const s of lifecycle.statuses) {
    const c = column.get(s) ?? 0;
    const row = rows.get(c) ?? 0;
    rows.set(c, row + 1);
    place.set(s, { column: c, row });
  }
  return place;
}

/** Each column as wide as its longest status needs, so labels are shown whole (a diagram wider than the page scrolls in its frame). */
function columnWidths(lifecycle: Lifecycle, place: Map<string, { column: number }>, columns: number): number[] {
  const widths = Array.from({ length: columns }, () => MIN_NODE_W);
  for (const s of lifecycle.statuses) {
    const column = place.get(s)?.column ?? 0;
    widths[column] = Math.max(widths[column]!, Math.ceil(s.length * LABEL_CHAR_W + 24));
  }
  return widths;
}

/**
 * The lifecycle as a state diagram: the current status filled, the statuses it may move
 * to outlined, final statuses with a double border. Read out as text for screen readers.
 */
export function LifecycleDiagram(props: { lifecycle: Lifecycle; current?: string; visited?: string[] }) {
  const { lifecycle, current } = props;
  const place = layoutLifecycle(lifecycle);
  const next = new Set(current ? (lifecycle.transitions[current] ?? []) : []);
  const visited = new Set(props.visited ?? []);
  const columns = Math.max(...[...place.values()].map((p) => p.column)) + 1;
  const rows = Math.max(...[...place.values()].map((p) => p.row)) + 1;
  const widths = columnWidths(lifecycle, place, columns);
  const left = widths.map((_, c) => PAD + widths.slice(0, c).reduce((sum, w) => sum + w + GAP_X, 0));
  const width = PAD * 2 + widths.reduce((sum, w) => sum + w, 0) + (columns - 1) * GAP_X;
  const boxWidth = (s: string) => widths[place.get(s)?.column ?? 0]!;
  const movesBack = lifecycle.statuses.some((from) =>
    (lifecycle.transitions[from] ?? []).some((to) => (place.get(to)?.column ?? 0) <= (place.get(from)?.column ?? 0)),
  );
  // Room under the boxes for the curves of moves back, when the lifecycle has any.
  const height = PAD * 2 + rows * NODE_H + (rows - 1) * GAP_Y + (movesBack ? 24 : 0);
  const at = (s: string) => {
    const p = place.get(s) ?? { column: 0, row: 0 };
    return { x: left[p.column]!, y: PAD + p.row * (NODE_H + GAP_Y) };
  };

  const edges = [];
  for (const from of lifecycle.statuses) {
    for (const to of lifecycle.transitions[from] ?? []) {
      const a = at(from);
      const b = at(to);
      const active = from === current;
      let d: string;
      if (b.x > a.x) {
        const x1 = a.x + boxWidth(from);
        const y1 = a.y + NODE_H / 2;
        const x2 = b.x - 2;
        const y2 = b.y + NODE_H / 2;
        const bend = Math.max(24, (x2 - x1) / 2);
        d = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
      } else {
        const x1 = a.x + boxWidth(from) / 2;
        const y1 = a.y + NODE_H;
        const x2 = b.x + boxWidth(to) / 2;
        const y2 = b.y + NODE_H + 2;
        d = `M${x1},${y1} C${x1},${height - 4} ${x2},${height - 4} ${x2},${y2}`;
      }
      edges.push(<path key={`${from}->${to}`} d={d} class={active ? 'edge active' : 'edge'} marker-end={active ? 'url(#arrow-active)' : 'url(#arrow)'} />);
    }
  }

  const description = current
    ? `Lifecycle ${lifecycle.name}: current status ${current}; ${next.size > 0 ? `may move to ${[...next].join(', ')}` : 'final, no further moves'}.`
    : `Lifecycle ${lifecycle.name}: statuses ${lifecycle.statuses.join(', ')}; initial ${lifecycle.initial.join(', ')}; final ${lifecycle.final.join(', ')}.`;

  return (
    <div class="diagram-scroll">
      <svg class="diagram" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={description} data-testid="lifecycle-diagram">
        <title>{description}</title>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
          <marker id="arrow-active" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead active" />
          </marker>
        </defs>
        {edges}
        {lifecycle.statuses.map((s) => {
          const { x, y } = at(s);
          const classes = ['node'];
          if (s === current) classes.push('current');
          else if (next.has(s)) classes.push('next');
          else if (visited.has(s)) classes.push('visited');
          if (lifecycle.final.includes(s)) classes.push('final');
          if (lifecycle.initial.includes(s)) classes.push('initial');
          return (
            <g key={s} class={classes.join(' ')} data-status={s} transform={`translate(${x},${y})`}>
              <title>{s}</title>
              <rect width={boxWidth(s)} height={NODE_H} rx="8" />
              {lifecycle.final.includes(s) && <rect class="inner" x="3" y="3" width={boxWidth(s) - 6} height={NODE_H - 6} rx="6" />}
              <text x={boxWidth(s) / 2} y={NODE_H / 2 + 4} text-anchor="middle">
                {s}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
