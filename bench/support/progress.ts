/** A one-line progress reporter on stderr; stdout stays clean for the result table. */
export interface Progress {
  /** Reports `done` of `total` (or of an open-ended run when `total` is undefined); throttled. */
  update(done: number, total?: number, detail?: string): void;
  /** Ends the line with a final message. */
  done(message: string): void;
}

/**
 * Creates a progress line labelled `label`: redrawn in place on a terminal, printed at most every
 * few seconds otherwise (CI logs), so long phases still show they are alive.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  const every = tty ? 100 : 5000;
  let last = 0;
  const render = (text: string, final: boolean) => {
    if (tty) stream.write(`\r\x1b[2K${label} ${text}${final ? '\n' : ''}`);
    else stream.write(`${label} ${text}\n`);
  };
  return {
    update(done, total, detail) {
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      const share = total ? ` ${((100 * done) / total).toFixed(0)}%` : '';
      render(`${done}${total ? `/${total}` : ''}${share}${detail ? ` ${detail}` : ''}`, false);
    },
    done(message) {
      render(message, true);
    },
  };
}
