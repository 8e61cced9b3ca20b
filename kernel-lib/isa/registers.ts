// Facts about registers and addresses the instruction semantics and the machine share.

/** General registers by their encoding number (SDM vol. 2, table 3-1), for the register files rl/rh. */
export const RAX = 0;
export const RCX = 1;
export const RDX = 2;
export const RSP = 4;
export const RBP = 5;

/**
 * Whether an address with this upper half is canonical: with 48-bit linear addresses, bits 63
 * through 47 must all equal bit 47 (SDM vol. 1, 3.3.7.1), i.e. the upper half shifted right
 * arithmetically by 15 is 0 or -1.
 */
export function isCanonicalHigh(hi: number): boolean {
  const top = hi >> 15;
  return top === 0 || top === -1;
}
