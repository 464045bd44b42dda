/**
 * The cold import figures alone (bench/cold-import.ts); `npm run bench` prints them too, last.
 *
 *   npx tsx bench/cold-start.ts [--runs 21]
 */
import { coldImport, coldImportLines } from './cold-import.js';

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 21;
console.log(coldImportLines(coldImport(runs)).join('\n'));
