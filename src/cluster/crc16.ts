/**
 * CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0, no reflection, no final xor), the checksum
 * Redis Cluster hashes keys with (crc16.c, used by keyHashSlot in cluster.c). Check value:
 * crc16("123456789") === 0x31c3. Table-driven, one table lookup per byte, no allocation.
 */
const TABLE = ((): Uint16Array => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC16/XMODEM of buf[start, end). */
export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >>> 8) ^ (buf[i] as number)) & 0xff] as number);
  }
  return crc;
}
