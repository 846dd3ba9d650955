/** Splits one CSV line (RFC 4180 quoting: "..." with "" for a quote) into fields. */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error(`unterminated quote in ${line}`);
        s += line.slice(i, q);
        if (line[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(s);
      i++; // the comma
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

/** The key bytes of a memory-report key field (text, or `base64:<...>`). */
export function csvKeyBytes(field: string): Buffer {
  return field.startsWith('base64:') ? Buffer.from(field.slice(7), 'base64') : Buffer.from(field, 'utf8');
}
