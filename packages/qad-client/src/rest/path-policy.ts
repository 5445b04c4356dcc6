import { isQadError, QadUnsafePathError } from "../errors.js";
import type { Logger } from "../internal/deps.js";
import { checkPathSyntax, pathsFromApiDescription } from "./paths.js";
import type { Transport } from "./transport.js";

/** Where the instance publishes its OpenAPI/Swagger document. */
export interface ApiDescriptionOptions {
  /** Path of the document, relative to the tenant URL (e.g. `api/openapi.json`). */
  path: string;
  /**
   * When the document cannot be fetched (404, not JSON), fall back to the allow-list instead of failing.
   * @default true
   */
  fallbackToAllowList?: boolean;
}

/**
 * Decides whether an API path may be called: syntax first (no traversal, no absolute or scheme-relative URLs),
 * then membership in the instance's published API description, or in the allow-list when there is none.
 * @internal
 */
export class PathPolicy {
  #published: Promise<Set<string> | undefined> | undefined;
  readonly #allowed: Set<string>;

  constructor(
    private readonly base: URL,
    private readonly transport: Transport,
    private readonly description: ApiDescriptionOptions | false | undefined,
    allowed: readonly string[],
    private readonly logger: Logger,
  ) {
    if (description) checkPathSyntax(description.path);
    this.#allowed = new Set(allowed.map((p) => checkPathSyntax(p)));
  }

  /** Resolves when `path` is allowed; throws {@link QadUnsafePathError} otherwise, before any request to it. */
  async check(path: string, signal?: AbortSignal): Promise<string> {
    const rel = checkPathSyntax(path);
    const published = this.description ? await this.#load(signal) : undefined;
    if (published) {
      if (!matches(published, rel)) {
        throw new QadUnsafePathError(path, "not published in the instance's API description");
      }
      return rel;
    }
    if (!this.#allowed.has(rel)) throw new QadUnsafePathError(path, "not in the configured allowedPaths");
    return rel;
  }

  /** What {@link check} decides against: the published API description, or the allow-list when there is none. */
  async source(signal?: AbortSignal): Promise<"apiDescription" | "allowedPaths"> {
    return this.description && (await this.#load(signal)) ? "apiDescription" : "allowedPaths";
  }

  #load(signal?: AbortSignal): Promise<Set<string> | undefined> {
    const d = this.description;
    if (!d) return Promise.resolve(undefined);
    this.#published ??= this.transport
      .request({ method: "GET", path: d.path, ...(signal ? { signal } : {}) })
      .then((res) => {
        const paths = pathsFromApiDescription(res.body, this.base);
        if (paths.size === 0) throw new Error("no paths");
        this.logger.debug({ paths: paths.size }, "qad API description loaded");
        return paths;
      })
      .catch((e: unknown) => {
        this.#published = undefined; // try again on the next call rather than caching a transient failure
        const transient = isQadError(e) && e.retryable;
        if (d.fallbackToAllowList === false || transient) throw e;
        this.logger.warn({ path: d.path }, "qad API description unavailable, using allowedPaths");
        return undefined;
      });
    return this.#published;
  }
}

function matches(published: Set<string>, rel: string): boolean {
  if (published.has(rel)) return true;
  const segs = rel.split("/");
  for (const p of published) {
    if (!p.includes("{")) continue;
    const ps = p.split("/");
    if (ps.length === segs.length && ps.every((s, i) => (s.startsWith("{") && s.endsWith("}")) || s === segs[i]))
      return true;
  }
  return false;
}
