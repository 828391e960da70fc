/** Options of Go's text/tabwriter, as Docker configures it for tables (10, 1, 3, ' ', 0). */
export interface TabwriterOptions {
  minWidth?: number;
  padding?: number;
  padChar?: string;
}

interface Cell {
  text: string;
  width: number;
}

/**
 * Aligns tab-separated cells into columns the way Go's tabwriter does: a column's width is set per block
 * of consecutive lines that have a cell in it; the text after a line's last tab is not aligned.
 */
export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const padChar = opts.padChar ?? " ";
  const trailingNewline = text.endsWith("\n");
  const rawLines = (trailingNewline ? text.slice(0, -1) : text).split("\n");
  const lines: Cell[][] = rawLines.map((l) => l.split("\t").map((t) => ({ text: t, width: [...t].length })));
  const widths: number[] = [];
  const out: string[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i];
      let s = "";
      for (let j = 0; j < line.length; j++) {
        const c = line[j];
        s += c.text;
        if (j < widths.length && j < line.length - 1) s += padChar.repeat(Math.max(0, widths[j] - c.width));
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i].length - 1) continue;
      writeLines(line0, i);
      line0 = i;
      let width = minWidth;
      for (; i < line1; i++) {
        const line = lines[i];
        if (column >= line.length - 1) break;
        const c = line[column];
        if (c.width + padding > width) width = c.width + padding;
      }
      widths.push(width);
      format(line0, i);
      widths.pop();
      line0 = i;
      // Re-examine the line that ended the block: it may start the next one.
      i--;
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return out.join("\n") + (trailingNewline ? "\n" : "");
}
