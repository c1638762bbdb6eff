/**
 * The batch's family table: one driver per family. A family joins the batch with one entry here and
 * a sub-builder on {@link Batch}.
 *
 * @module
 * @internal
 */
import type { DriverTable } from './commit';
import { ipsetDriver } from './ipset';
import { ipvsDriver } from './ipvs';
import { rtnlDriver } from './rtnl';

export const DRIVERS: DriverTable = {
  ipvs: ipvsDriver,
  ipset: ipsetDriver,
  rtnl: rtnlDriver,
};
