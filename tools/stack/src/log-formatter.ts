/** Turns a service's JSON log line into one readable, prefixed line for the terminal. */
const COLORS = ['\u001b[35m', '\u001b[34m', '\u001b[33m', '\u001b[32m', '\u001b[36m'];
const LEVEL_COLORS: Record<string, string> = { debug: '\u001b[90m', info: '', warn: '\u001b[33m', error: '\u001b[31m' };
const RESET = '\u001b[0m';
const HIDDEN = new Set(['ts', 'level', 'service', 'instance', 'msg']);

export function prefixer(name: string, index: number, width: number, pretty: boolean): (line: string) => string {
  const prefix = `${COLORS[index % COLORS.length]}${name.padEnd(width)}${RESET} │ `;
  return (line: string) => {
    if (!pretty || !line.startsWith('{')) return prefix + line;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const time = typeof entry.ts === 'string' ? entry.ts.slice(11, 19) : '';
      const level = String(entry.level ?? 'info');
      const fields = Object.entries(entry).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      return `${prefix}${time} ${LEVEL_COLORS[level] ?? ''}${level.toUpperCase().padEnd(5)} ${entry.msg}${RESET}${fields.length ? ` \u001b[90m${fields.join(' ')}${RESET}` : ''}`;
    } catch {
      return prefix + line;
    }
  };
}
