import { type CST, type Document, type Node, type Pair, visit } from 'yaml';
import { collectProps, type Item, type Token } from './cst.js';

/** What the `yaml` library reads from one document: the data of its nodes, its anchors and aliases. */
export class DocumentFacts {
  private nodes: Map<unknown, Node> | null = null;
  private pairs: Map<unknown, Pair> | null = null;
  private props: { anchors: CST.SourceToken[]; aliases: CST.SourceToken[] } | null = null;
  private readonly dataKeys = new Map<Token, Set<string>>();

  constructor(
    private readonly cst: CST.Document,
    private readonly doc: Document.Parsed | undefined,
  ) {}

  private index(): void {
    if (this.nodes) return;
    const nodes = new Map<unknown, Node>();
    const pairs = new Map<unknown, Pair>();
    if (this.doc) {
      visit(this.doc, {
        Node: (_key, node) => {
          if (node.srcToken) nodes.set(node.srcToken, node);
        },
        Pair: (_key, pair) => {
          const key = pair.key as Partial<Node> | null;
          if (key?.srcToken) pairs.set(key.srcToken, pair as Pair);
        },
      });
    }
    this.nodes = nodes;
    this.pairs = pairs;
  }

  private toJS(node: unknown): { value: unknown } | null {
    if (!this.doc) return null;
    if (node === null || node === undefined) return { value: null };
    try {
      return { value: (node as Node).toJS(this.doc) };
    } catch {
      return null;
    }
  }

  /** The data an entry's value reads as (tags and aliases resolved), or null when unknown. */
  itemData(item: Item): { value: unknown } | null {
    this.index();
    const pair = item.key ? this.pairs!.get(item.key) : undefined;
    if (pair) return this.toJS(pair.value);
    const node = item.value ? this.nodes!.get(item.value) : undefined;
    return node ? this.toJS(node) : null;
  }

  /** The data a value token reads as, or null when unknown. */
  tokenData(token: Token): { value: unknown } | null {
    this.index();
    const node = this.nodes!.get(token);
    return node ? this.toJS(node) : null;
  }

  /**
   * True when the map read from `token` has, as data, an entry whose key reads as `key` (a
   * collection or null key reads as a string there too).
   */
  mapHasKey(token: Token, key: string): boolean {
    let keys = this.dataKeys.get(token);
    if (!keys) {
      this.index();
      const data = this.nodes!.has(token) ? this.toJS(this.nodes!.get(token))?.value : undefined;
      keys = new Set(typeof data === 'object' && data !== null && !Array.isArray(data) ? Object.keys(data) : []);
      this.dataKeys.set(token, keys);
    }
    return keys.has(key);
  }

  private propTokens(): { anchors: CST.SourceToken[]; aliases: CST.SourceToken[] } {
    if (!this.props) {
      const props = { anchors: [] as CST.SourceToken[], aliases: [] as CST.SourceToken[] };
      collectProps(this.cst, props);
      this.props = props;
    }
    return this.props;
  }

  /** The name of an anchor among `tokens` that an alias refers to. */
  aliasedAnchor(tokens: readonly CST.SourceToken[]): string | null {
    for (const token of tokens) {
      if (token.type !== 'anchor') continue;
      const name = token.source.slice(1);
      if (this.propTokens().aliases.some((alias) => alias.source.slice(1) === name)) return name;
    }
    return null;
  }

  /** The name of an anchor defined in [start, end) that an alias outside that range refers to. */
  aliasedAnchorIn(start: number, end: number): string | null {
    const { anchors, aliases } = this.propTokens();
    for (const anchor of anchors) {
      if (anchor.offset < start || anchor.offset >= end) continue;
      const name = anchor.source.slice(1);
      if (aliases.some((alias) => alias.source.slice(1) === name && (alias.offset < start || alias.offset >= end))) return name;
    }
    return null;
  }
}
