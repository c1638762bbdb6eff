/**
 * ipvs: program the Linux IPVS load balancer, ipsets and dummy-link addresses over netlink.
 * @packageDocumentation
 */
export { openHandle, Handle, type HandleOptions } from './handle';
export { Ipvs, type IpvsServiceEntry, type IpvsApplyOptions } from './ipvs/ipvs';
export type {
  IpvsService, IpvsServiceKey, IpvsServiceOptions, IpvsServiceSettings, IpvsAddressKey, IpvsFwmarkKey,
  IpvsProtocol, IpvsSchedFlag, IpFamily,
} from './ipvs/service';
export { checkIpvsChange, type IpvsChange, type IpvsChangeResult } from './ipvs/change';
export type { IpvsDaemon, IpvsDaemonOptions, IpvsDaemonState } from './ipvs/daemon';
export type { IpvsTimeouts, IpvsTimeoutsOptions, IpvsInfo } from './ipvs/config';
export type {
  IpvsDestination, IpvsDestinationKey, IpvsDestinationOptions, IpvsForwarding, IpvsTunnelType, IpvsTunnelChecksum,
} from './ipvs/destination';
export type { IpvsStats, IpvsStatsCounter, IpvsStatsRate } from './ipvs/stats';
export type {
  IpvsStatsSample, IpvsWatchStatsOptions, IpvsServiceStatsSample, IpvsDestinationStatsSample, IpvsStatsChange,
  IpvsCounterDelta, IpvsCounterRate, IpvsCounterName,
} from './snapshot/watch-stats';
export { parseConnections, CONNECTION_PROTOCOL_NAMES, type IpvsConnection, type IpvsConnectionProtocol } from './ipvs/connections';
export {
  IPVS_SYSCTLS, type IpvsSysctls, type IpvsSysctlValue, type IpvsSysctlsOptions, type IpvsKnownSysctls, type IpvsSysctlName,
  type IpvsSysctlKind, type IpvsSysctlSpec,
} from './ipvs/sysctl';
export { Ipset, type IpsetAddOptions, type IpsetRestoreOptions, type IpsetRestoreResult } from './ipset/ipset';
export type { IpsetExistOptions, IpsetListOptions, IpsetTypeRevisions } from './ipset/ops';
export {
  parseEntry as parseIpsetEntry, formatEntry as formatIpsetEntry, formatElement as formatIpsetElement, IPSET_TYPES,
  type IpsetEntry, type IpsetEntryInput,
} from './ipset/entry';
export { sortEntries as sortIpsetEntries } from './ipset/sort';
export {
  parseCreateOptions as parseIpsetCreateOptions, formatCreateOptions as formatIpsetCreateOptions,
  type IpsetCreateOptions, type IpsetSet, type IpsetFamily,
} from './ipset/set';
export { IpsetEntryError, type IpsetEntryErrorInit } from './ipset/errors';
export { formatSave as formatIpsetSave, parseRestore as parseIpsetRestore, type IpsetRestoreCommand } from './ipset/save';
export { Links, type EnsureDummyOptions } from './link/links';
export type { Link, LinkRef } from './link/link';
export type { DummyLinkOptions, LinkSettings } from './link/ops';
export { Addresses, type AddressListOptions, type AddressEventsOptions } from './address/addresses';
export { parseCidr, type Address, type AddressOptions, type Cidr } from './address/address';
export type { AddressEvent } from './address/events';
export { Batch } from './batch/batch';
export type { BatchIpvs } from './batch/ipvs';
export type { BatchIpset, IpsetBatchCreateOptions } from './batch/ipset';
export type { BatchLinks, BatchAddresses } from './batch/rtnl';
export type { CommitOptions, CommitResult, ChangeResult, ChangeStatus, SkipReason, UndoOutcome, BatchProgress, FailurePolicy } from './batch/commit';
export {
  readProcIpvs, type Snapshot, type SnapshotOptions, type IpvsServiceState, type IpvsDestinationState, type IpvsReadOptions, type ProcIpvsService,
  type ProcIpvsDestination,
} from './snapshot/snapshot';
export type {
  DesiredState, ReconcileOptions, ReconcileResult, ReconcilePlan, ReconcileScope, DesiredService, DesiredSet, DesiredLinkAddresses,
  ServiceScope, SetScope, AddressScope, IpvsPlanStep, IpsetPlanStep, AddressPlanStep,
} from './reconcile/reconcile';
export type { DrainOptions, DrainResult, DrainedDestination } from './reconcile/drain';
export { NetlinkError, DecodeError, type ExtAck, type NetlinkErrorInit } from './netlink/errors';
export type { OperationResult } from './netlink/operation';
export type { Schema, AttrSpec, AttrType } from './netlink/attr';
export { formatMessage, type FormatHint } from './netlink/debug';
export type { GenlFamily } from './netlink/genl';
export { addressBytes, canonicalAddress } from './netlink/address';
