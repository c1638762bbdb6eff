// The short, fixed-seed run of the decoder fuzzer (test/fuzz/engine.mjs) over the TypeScript
// sources: 100,000 inputs (about 20 s here) through every decoder a kernel reply reaches. Random
// bytes, random well-framed messages and mutations of the golden captures may only ever give a
// DecodeError (or the NetlinkError of a refusal or an empty reply). `npm test` runs it as a step of
// its own after the unit suite (vitest.fuzz.config.ts), so its CPU does not slow the unit files
// that run in parallel; `npm run fuzz` is the long run over dist/.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport, runFuzz, type FuzzLib } from './engine.mjs';
import * as header from '../../src/netlink/header';
import * as errors from '../../src/netlink/errors';
import * as dump from '../../src/netlink/dump';
import * as protocol from '../../src/netlink/protocol';
import * as message from '../../src/netlink/message';
import * as attr from '../../src/netlink/attr';
import * as genl from '../../src/netlink/genl';
import * as schemaCtrl from '../../src/schema/genl-ctrl';
import * as schemaIpset from '../../src/schema/ipset';
import * as schemaIpvs from '../../src/schema/ipvs';
import * as schemaAddr from '../../src/schema/rtnl-addr';
import * as schemaLink from '../../src/schema/rtnl-link';
import * as ipvsDecode from '../../src/snapshot/ipvs-decode';
import * as ipvsOps from '../../src/ipvs/ops';
import * as ipsetDecode from '../../src/ipset/list-decode';
import * as ipsetOps from '../../src/ipset/ops';
import * as linkOps from '../../src/link/ops';
import * as addrOps from '../../src/address/ops';
import * as addrDecode from '../../src/address/list-decode';

const lib: FuzzLib = {
  header, errors, dump, protocol, message, attr, genl, schemaCtrl, schemaIpset, schemaIpvs, schemaAddr, schemaLink,
  ipvsDecode, ipvsOps, ipsetDecode, ipsetOps, linkOps, addrOps, addrDecode,
};

const INPUTS = 100_000;
const SEED = 20261203;

describe('decoder fuzzing (short fixed-seed run)', () => {
  it(`${INPUTS} inputs of seed ${SEED}: only DecodeError or NetlinkError, none over 100 ms`, async () => {
    const res = await runFuzz({ lib, corpusDir: path.join(__dirname, '..', 'golden'), seed: SEED, inputs: INPUTS });
    const report = formatReport(res);
    expect(res.inputs).toBe(INPUTS);
    expect(res.corpusFiles).toBeGreaterThanOrEqual(50);
    expect(res.untypedCount, report).toBe(0);
    expect(res.slow, report).toEqual([]);
    // every target was reached, and some of its inputs decoded all the way through
    for (const [name, c] of Object.entries(res.perTarget)) {
      expect(c.inputs, name).toBeGreaterThan(INPUTS / 20);
      expect(c.inputs - c.decodeErrors - c.typed - c.untyped, `${name} never decoded an input whole`).toBeGreaterThan(0);
    }
  }, 300_000);
});
