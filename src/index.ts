/**
 * ipvs: program the Linux IPVS load balancer, ipsets and dummy-link addresses over netlink.
 * @packageDocumentation
 */
export { openHandle, Handle, type HandleOptions } from './handle';
export { Ipvs } from './ipvs/ipvs';
export type {
  IpvsService, IpvsServiceKey, IpvsServiceOptions, IpvsServiceSettings, IpvsAddressKey, IpvsFwmarkKey,
  IpvsProtocol, IpvsSchedFlag, IpFamily,
} from './ipvs/service';
export type {
  IpvsDestination, IpvsDestinationKey, IpvsDestinationOptions, IpvsForwarding, IpvsTunnelType, IpvsTunnelChecksum,
} from './ipvs/destination';
export type { IpvsStats } from './ipvs/stats';
export { NetlinkError, DecodeError, type ExtAck } from './netlink/errors';
export { formatMessage, type FormatHint } from './netlink/debug';
export type { GenlFamily } from './netlink/genl';
