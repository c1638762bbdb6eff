import type { HandleContext } from '../handle-context';
import type { GenlFamily } from '../netlink/genl';
import { runOne, type Operation } from '../netlink/operation';
import { IPVS_GENL_NAME } from '../uapi/ip-vs';
import { NETLINK_GENERIC } from '../native';
import * as ops from './ops';
import type { IpvsService, IpvsServiceKey, IpvsServiceOptions } from './service';
import type { IpvsDestination, IpvsDestinationKey, IpvsDestinationOptions } from './destination';

/**
 * IPVS virtual services and destinations, over the kernel's "IPVS" generic-netlink family.
 * Obtain it from a handle: `openHandle().ipvs`.
 */
export class Ipvs {
  /** @internal */
  constructor(private readonly ctx: HandleContext) {}

  /**
   * The IPVS generic-netlink family, looked up once per handle (CTRL_CMD_GETFAMILY).
   * Throws NetlinkError ENOENT with advice when the kernel has no IPVS (load `ip_vs`).
   */
  family(): Promise<GenlFamily> {
    return this.ctx.genlFamily(IPVS_GENL_NAME);
  }

  private async run<T>(build: (f: GenlFamily) => Operation<T>): Promise<T> {
    const f = await this.family();
    return runOne(this.ctx.connection(NETLINK_GENERIC), build(f), this.ctx.exchangeOptions);
  }

  /**
   * Adds a virtual service. Equivalent to `ipvsadm -A -t VIP:PORT -s SCHED [-p T] [-M MASK] [-o] [-b FLAGS] [--pe sip]`.
   * Errors: EEXIST the service exists; ENOENT the scheduler (or persistence engine) is unknown to the kernel;
   * EPERM needs CAP_NET_ADMIN.
   */
  addService(service: IpvsServiceOptions): Promise<void> {
    return this.run((f) => ops.addServiceOp(f, service));
  }

  /**
   * Changes a service's settings. Equivalent to `ipvsadm -E ...`.
   * Errors: ESRCH no such service; ENOENT unknown scheduler.
   */
  editService(service: IpvsServiceOptions): Promise<void> {
    return this.run((f) => ops.editServiceOp(f, service));
  }

  /** Deletes a service and its destinations. Equivalent to `ipvsadm -D -t VIP:PORT`. Errors: ESRCH no such service. */
  deleteService(key: IpvsServiceKey): Promise<void> {
    return this.run((f) => ops.deleteServiceOp(f, key));
  }

  /** Reads one service. Equivalent to `ipvsadm -Ln -t VIP:PORT`. Errors: ESRCH no such service. */
  getService(key: IpvsServiceKey): Promise<IpvsService> {
    return this.run((f) => ops.getServiceOp(f, key));
  }

  /** Lists every virtual service (without destinations). Equivalent to the service lines of `ipvsadm -Ln`. */
  listServices(): Promise<IpvsService[]> {
    return this.run((f) => ops.listServicesOp(f));
  }

  /**
   * Adds a destination to a service. Equivalent to `ipvsadm -a -t VIP:PORT -r RIP:PORT -m -w W`.
   * Errors: ESRCH no such service; EEXIST the destination exists; EINVAL refused values (for example
   * a destination address that is not unicast).
   */
  addDestination(service: IpvsServiceKey, destination: IpvsDestinationOptions): Promise<void> {
    return this.run((f) => ops.addDestinationOp(f, service, destination));
  }

  /** Changes a destination. Equivalent to `ipvsadm -e ...`. Errors: ESRCH no such service; ENOENT no such destination. */
  editDestination(service: IpvsServiceKey, destination: IpvsDestinationOptions): Promise<void> {
    return this.run((f) => ops.editDestinationOp(f, service, destination));
  }

  /** Removes a destination. Equivalent to `ipvsadm -d -t VIP:PORT -r RIP:PORT`. Errors: ESRCH no such service; ENOENT no such destination. */
  deleteDestination(service: IpvsServiceKey, destination: IpvsDestinationKey): Promise<void> {
    return this.run((f) => ops.deleteDestinationOp(f, service, destination));
  }

  /** Lists a service's destinations (one dump). Errors: ESRCH no such service. */
  listDestinations(service: IpvsServiceKey): Promise<IpvsDestination[]> {
    return this.run((f) => ops.listDestinationsOp(f, service));
  }

  /** Removes every service and destination. Equivalent to `ipvsadm -C`. */
  flush(): Promise<void> {
    return this.run((f) => ops.flushOp(f));
  }
}
