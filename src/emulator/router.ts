// A small router: method + path pattern → handler. Patterns are literal segments and `{name}`
// parameters (one segment each, URI-decoded). Routes are tried in the order they were added;
// method '*' matches any method (used to answer 405 after the same lookups a real route makes).
export type Params = Record<string, string>;

interface Route<H> {
  method: string;
  parts: string[];
  handler: H;
}

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  find(method: string, path: string): { handler: H; params: Params } | null {
    const segs = path.split('/').filter(Boolean);
    for (const r of this.routes) {
      if (r.method !== '*' && r.method !== method) continue;
      const params = match(r.parts, segs);
      if (params) return { handler: r.handler, params };
    }
    return null;
  }
}

function match(parts: string[], segs: string[]): Params | null {
  if (parts.length !== segs.length) return null;
  const params: Params = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.startsWith('{') && p.endsWith('}')) params[p.slice(1, -1)] = decodeURIComponent(segs[i]);
    else if (p !== segs[i]) return null;
  }
  return params;
}
