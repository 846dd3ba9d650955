/**
 * Module type ids (module.c moduleTypeEncodeId / moduleTypeNameByID): a 64-bit id whose low 10 bits
 * are the encoding version and whose upper 54 bits are nine 6-bit characters of the type name.
 */

/** module.c ModuleTypeNameCharSet: 64 characters, index = 6-bit code. */
export const MODULE_TYPE_NAME_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Decode a module type id into its 9-character name and its 10-bit encoding version. */
export function moduleTypeName(moduleId: bigint): { name: string; encver: number } {
  const id = BigInt.asUintN(64, moduleId);
  const encver = Number(id & 1023n);
  let rest = id >> 10n;
  const chars = new Array<string>(9);
  for (let j = 8; j >= 0; j--) {
    chars[j] = MODULE_TYPE_NAME_CHARSET.charAt(Number(rest & 63n));
    rest >>= 6n;
  }
  return { name: chars.join(''), encver };
}
