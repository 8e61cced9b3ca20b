// Attributes of a guest memory access, as bits (shared by instruction semantics and memory).
/** A CPL-3 access. Implicit supervisor accesses (event delivery, descriptor reads) never set it. */
export const ACC_USER_BIT = 1;
/** An SS-relative reference: a non-canonical address raises #SS, not #GP (SDM 6.15, #SS). */
export const ACC_STACK_BIT = 2;
/** An instruction fetch (#PF error code bit 4). */
export const ACC_FETCH_BIT = 4;
