/**
 * HTML built by a tagged template that escapes every interpolated value unless it is itself built
 * by `html` (or `trusted`): prompts, custom ids, metadata and error messages are user input, so
 * a page can only contain markup its own templates wrote.
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false || part === true) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  parts.forEach((part, i) => (out += render(part) + (strings[i + 1] ?? '')));
  return new SafeHtml(out);
}

/** Markup that is ours (the page's stylesheet and script), never anything read from Redis. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
