import { type DefaultTreeAdapterMap, parse } from "parse5";

type Node = DefaultTreeAdapterMap["node"];
export type Element = DefaultTreeAdapterMap["element"];

/** Every element of a parsed HTML document, in document order (template contents included). */
export function elements(html: string): Element[] {
  const out: Element[] = [];
  const walk = (n: Node) => {
    if ("tagName" in n) out.push(n);
    if ("childNodes" in n) for (const c of n.childNodes) walk(c);
    if ("content" in n && n.content) walk(n.content as Node);
  };
  walk(parse(html) as unknown as Node);
  return out;
}

export const attr = (el: Element, name: string) => el.attrs.find((a) => a.name === name)?.value;

/** The text content of an element. */
export function text(el: Node): string {
  if (el.nodeName === "#text") return (el as DefaultTreeAdapterMap["textNode"]).value;
  return "childNodes" in el ? el.childNodes.map(text).join("") : "";
}

/** The rendered page's figures: elements by `data-testid` with other attributes to match, read from `data-figure`. */
export class Page {
  readonly all: Element[];
  constructor(html: string) {
    this.all = elements(html);
  }
  find(testid: string, where: Record<string, string> = {}): Element[] {
    return this.all.filter(
      (el) => attr(el, "data-testid") === testid && Object.entries(where).every(([k, v]) => attr(el, k) === v),
    );
  }
  /** The one figure matching; throws when there is none or more than one. */
  figure(testid: string, where: Record<string, string> = {}): number {
    const found = this.find(testid, where);
    if (found.length !== 1) throw new Error(`${found.length} elements for ${testid} ${JSON.stringify(where)}`);
    const v = attr(found[0] as Element, "data-figure");
    if (v === undefined || !/^-?\d+(\.\d+)?$/.test(v)) throw new Error(`no number in ${testid}: ${v}`);
    return Number(v);
  }
}
