// Renders parsed Markdown (markdown.ts) as React elements: every string goes in as a text child,
// which React escapes, so a changelog cannot inject markup or script.
import type { ReactNode } from "react";
import { parseMarkdown, type Block, type Inline } from "./markdown.ts";

export function Markdown({ source }: { source: string }) {
  return <div className="markdown">{parseMarkdown(source).map(block)}</div>;
}

function block(b: Block, key: number): ReactNode {
  switch (b.type) {
    case "heading": {
      // Changelog headings sit under the page's own h2: start at h3.
      const Tag = `h${Math.min(b.level + 2, 6)}` as "h3";
      return <Tag key={key}>{b.children.map(inline)}</Tag>;
    }
    case "paragraph":
      return <p key={key}>{b.children.map(inline)}</p>;
    case "code":
      return (
        <pre key={key}>
          <code>{b.text}</code>
        </pre>
      );
    case "list": {
      const items = b.items.map((item, i) => <li key={i}>{item.map(inline)}</li>);
      return b.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>;
    }
  }
}

function inline(n: Inline, key: number): ReactNode {
  switch (n.type) {
    case "text":
      return n.text;
    case "code":
      return <code key={key}>{n.text}</code>;
    case "em":
      return <em key={key}>{n.children.map(inline)}</em>;
    case "strong":
      return <strong key={key}>{n.children.map(inline)}</strong>;
    case "link":
      return (
        <a key={key} href={n.href} rel="noopener noreferrer nofollow" target="_blank">
          {n.children.map(inline)}
        </a>
      );
  }
}
