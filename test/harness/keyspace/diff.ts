/** Record-by-record differences (missing / unexpected / differing), empty when both lists are equal. */
import { recordId, type KeyRecord } from '../../helpers/records.js';

export function diffRecords(actual: KeyRecord[], expected: KeyRecord[]): string[] {
  const problems: string[] = [];
  const exp = new Map(expected.map((r) => [recordId(r), r]));
  const act = new Map(actual.map((r) => [recordId(r), r]));
  for (const [id, e] of exp) {
    const a = act.get(id);
    if (!a) problems.push(`missing ${id}`);
    else if (JSON.stringify(a) !== JSON.stringify(e)) {
      problems.push(
        `differs ${id}:\n  got  ${JSON.stringify(a).slice(0, 400)}\n  want ${JSON.stringify(e).slice(0, 400)}`,
      );
    }
  }
  for (const id of act.keys()) if (!exp.has(id)) problems.push(`unexpected ${id}`);
  return problems;
}
