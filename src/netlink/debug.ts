import { parseMessages, decodeErrorReply } from './header';
import { align4 } from './header';
import type { Schema } from './attr';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK } from '../uapi/netlink';

const FLAG_LETTERS: [number, string][] = [
  [0x01, 'R'], // NLM_F_REQUEST
  [0x02, 'M'], // NLM_F_MULTI
  [0x04, 'A'], // NLM_F_ACK
  [0x08, 'E'], // NLM_F_ECHO
  [0x10, 'I'], // NLM_F_DUMP_INTR
  [0x20, 'F'], // NLM_F_DUMP_FILTERED
  [0x100, 'r'], // NLM_F_ROOT / NLM_F_REPLACE / NLM_F_CAPPED (per context)
  [0x200, 'm'], // NLM_F_MATCH / NLM_F_EXCL / NLM_F_ACK_TLVS
  [0x400, 'a'], // NLM_F_ATOMIC / NLM_F_CREATE
  [0x800, 'p'], // NLM_F_APPEND
];

/** How to print the payload of a message: its family header size and its attribute schema. @category Advanced protocol */
export interface FormatHint {
  /** Bytes of family header after nlmsghdr (4 for genetlink and nfnetlink). */
  fixedSize: number;
  /** The attribute schema, so attributes print with the kernel's names (`IPVS_SVC_ATTR_PORT`); absent: numbers only. */
  schema?: Schema;
}

function flagLetters(flags: number): string {
  return FLAG_LETTERS.filter(([bit]) => flags & bit).map(([, l]) => l).join('') || '-';
}

function hex(buf: Buffer, start: number, end: number): string {
  return buf.subarray(start, Math.min(end, start + 32)).toString('hex') + (end - start > 32 ? '…' : '');
}

function formatAttrs(buf: Buffer, off: number, end: number, schema: Schema | undefined, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    const raw = buf.readUInt16LE(off + 2);
    if (len < 4 || off + len > end) {
      out.push(`${pad}! bad attribute length ${len} at +${off}`);
      return;
    }
    const id = raw & NLA_TYPE_MASK;
    const entry = schema?.byId.get(id);
    const flags = `${raw & NLA_F_NESTED ? 'N' : ''}${raw & NLA_F_NET_BYTEORDER ? 'B' : ''}`;
    const name = entry ? entry[1].nla : `attr ${id}`;
    const nested = entry?.[1].nested;
    const looksNested = nested !== undefined || (raw & NLA_F_NESTED) !== 0;
    out.push(`${pad}${name}${flags ? ` [${flags}]` : ''} len=${len}${looksNested ? '' : ` ${hex(buf, off + 4, off + len)}`}`);
    if (looksNested) {
      if (entry?.[1].type === 'list') {
        let o = off + 4;
        while (o + 4 <= off + len) {
          const l = buf.readUInt16LE(o);
          if (l < 4) break;
          out.push(`${pad}  item ${buf.readUInt16LE(o + 2) & NLA_TYPE_MASK} len=${l}`);
          formatAttrs(buf, o + 4, Math.min(o + l, off + len), nested, depth + 2, out);
          o += align4(l);
        }
      } else {
        formatAttrs(buf, off + 4, off + len, nested, depth + 1, out);
      }
    }
    off += align4(len);
  }
}

/**
 * Prints messages as header fields, flag letters and the attribute tree, for error reports and
 * failing tests. `hint` names the family header size and schema; `describe` names message types.
 * @category Advanced protocol
 */
export function formatMessage(buf: Buffer, hint?: FormatHint, describe?: (type: number) => string | undefined): string {
  const out: string[] = [];
  for (const m of parseMessages(buf)) {
    const typeName = m.type === NLMSG_ERROR ? 'NLMSG_ERROR' : m.type === NLMSG_DONE ? 'NLMSG_DONE'
      : m.type === NLMSG_NOOP ? 'NLMSG_NOOP' : m.type === NLMSG_OVERRUN ? 'NLMSG_OVERRUN' : describe?.(m.type) ?? `type ${m.type}`;
    out.push(`${typeName} len=${m.len} flags=${flagLetters(m.flags)} (0x${m.flags.toString(16)}) seq=${m.seq} pid=${m.pid}`);
    if (m.type === NLMSG_ERROR) {
      const e = decodeErrorReply(buf, m);
      out.push(`  error=${e.errno} for type=${e.request.type} seq=${e.request.seq}${e.extack?.message ? ` msg="${e.extack.message}"` : ''}${e.extack?.offset !== undefined ? ` offset=${e.extack.offset}` : ''}`);
    } else if (m.type >= 0x10 && hint) {
      out.push(`  header ${hex(buf, m.payload, m.payload + hint.fixedSize)}`);
      formatAttrs(buf, m.payload + align4(hint.fixedSize), m.end, hint.schema, 1, out);
    }
  }
  return out.join('\n');
}
