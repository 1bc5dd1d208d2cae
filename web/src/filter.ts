// The runs filter box. Until the query language lands on the server, it understands the conditions the
// native runs list can answer: `status`, `user`, `parent` (parentRunId) and `lifecycle`, each as
// `field = value`, joined by `and`. Values the server rejects come back with the server's message.

export interface FilterError {
  message: string;
  /** Character offset of the bad token in the filter text. */
  at: number;
}

const fields: Record<string, string> = {
  status: 'status',
  user: 'user',
  parent: 'parentRunId',
  parentrunid: 'parentRunId',
  lifecycle: 'lifecycle',
};

export const filterHelp = 'status = FINISHED and user = alice   (fields: status, user, parent, lifecycle)';

interface Token {
  text: string;
  at: number;
  quoted: boolean;
}

function tokenize(src: string): Token[] | FilterError {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '=') {
      out.push({ text: '=', at: i, quoted: false });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) return { message: `unterminated string starting at position ${i + 1}`, at: i };
      out.push({ text: src.slice(i + 1, end), at: i, quoted: true });
      i = end + 1;
      continue;
    }
    const m = /^[^\s='"]+/.exec(src.slice(i))!;
    out.push({ text: m[0], at: i, quoted: false });
    i += m[0].length;
  }
  return out;
}

/** Parses the filter into query parameters of GET /api/v1/runs, or says where it is wrong. */
export function parseFilter(src: string): Record<string, string> | FilterError {
  const tokens = tokenize(src);
  if (!Array.isArray(tokens)) return tokens;
  const result: Record<string, string> = {};
  let i = 0;
  while (i < tokens.length) {
    const f = tokens[i];
    const field = fields[f.text.toLowerCase()];
    if (!field || f.quoted)
      return {
        message: `unknown field '${f.text}' at position ${f.at + 1}; this filter supports status, user, parent and lifecycle`,
        at: f.at,
      };
    const eq = tokens[i + 1];
    if (!eq || eq.text !== '=' || eq.quoted)
      return { message: `expected '=' after '${f.text}' at position ${(eq?.at ?? src.length) + 1}`, at: eq?.at ?? src.length };
    const value = tokens[i + 2];
    if (!value || (value.text === '=' && !value.quoted))
      return { message: `expected a value after '=' at position ${(value?.at ?? src.length) + 1}`, at: value?.at ?? src.length };
    result[field] = value.text;
    i += 3;
    if (i < tokens.length) {
      const and = tokens[i];
      if (and.text.toLowerCase() !== 'and' || and.quoted)
        return { message: `expected 'and' at position ${and.at + 1}, got '${and.text}'`, at: and.at };
      i++;
      if (i >= tokens.length) return { message: `expected a condition after 'and'`, at: src.length };
    }
  }
  return result;
}
