// Checks HTTP responses against the OpenAPI document the server serves (src/server/openapi.ts):
// the operation exists, the status is documented for it, the content type is the documented
// one, and the body (each line, for NDJSON) is valid against the documented JSON Schema.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { openApiDocument } from '../../src/server/openapi.js';

interface MediaType {
  schema?: object;
}
interface ResponseSpec {
  content?: Record<string, MediaType>;
}
interface Operation {
  responses: Record<string, ResponseSpec>;
}

const doc = openApiDocument() as {
  paths: Record<string, Record<string, Operation>>;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(doc, 'openapi.json');

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The document's path for a request path: itself, or a template such as /api/restores/{id}. */
function templateOf(pathname: string): string | undefined {
  if (Object.hasOwn(doc.paths, pathname)) return pathname;
  const parts = pathname.split('/');
  return Object.keys(doc.paths).find((t) => {
    const segs = t.split('/');
    return (
      segs.length === parts.length &&
      segs.every((s, i) => (/^\{.+\}$/.test(s) ? parts[i] !== '' : s === parts[i]))
    );
  });
}

/** Responses checked so far, by "METHOD path status" (to report coverage). */
export const checked = new Set<string>();

/**
 * Throws with a readable message when a response does not match the document. `path` may carry
 * a query string.
 */
export function checkResponse(
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: string,
): void {
  const pathname = new URL(path, 'http://x').pathname;
  const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  const template = templateOf(pathname);
  const item = template === undefined ? undefined : doc.paths[template];
  // Unknown paths and methods answer documented-nowhere 404/405 errors: check the error shape.
  if (item === undefined || item[m] === undefined) {
    if (![404, 405].includes(status)) {
      throw new Error(`${method} ${pathname}: not in the API document, yet answered ${status}`);
    }
    validate('#/components/schemas/Error', JSON.parse(body), `${method} ${pathname} ${status}`);
    return;
  }
  const op = item[m] as Operation;
  const response = op.responses[String(status)] ?? op.responses.default;
  if (response === undefined) {
    throw new Error(
      `${method} ${pathname}: status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')}); body ${body.slice(0, 200)}`,
    );
  }
  checked.add(`${method.toUpperCase()} ${template} ${status}`);
  if (method.toUpperCase() === 'HEAD') return;
  const types = Object.keys(response.content ?? {});
  if (types.length === 0) return;
  const base = (contentType ?? '').split(';')[0]?.trim() ?? '';
  if (!types.includes(base)) {
    throw new Error(
      `${method} ${pathname} ${status}: content type ${JSON.stringify(contentType)}, documented: ${types.join(', ')}`,
    );
  }
  const schemaPath = `#/${pointer('paths', template as string, m, 'responses', String(status), 'content', base, 'schema')}`;
  if (base === 'application/json') {
    validate(schemaPath, JSON.parse(body), `${method} ${pathname} ${status}`);
  } else if (base === 'application/x-ndjson') {
    for (const line of body.split('\n').filter((l) => l.length > 0)) {
      validate(schemaPath, JSON.parse(line), `${method} ${pathname} ${status} (a line)`);
    }
  }
}

function validate(schemaPointer: string, value: unknown, where: string): void {
  const v = ajv.getSchema(`openapi.json${schemaPointer}`);
  if (v === undefined) throw new Error(`no schema at ${schemaPointer}`);
  if (!v(value)) {
    throw new Error(
      `${where}: body does not match the API document: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value).slice(0, 500)}`,
    );
  }
}

/** fetch, with the response checked against the document; resolves with status and text. */
export async function checkedFetch(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  checkResponse(init?.method ?? 'GET', url, res.status, res.headers.get('content-type'), text);
  return { status: res.status, headers: res.headers, text };
}
