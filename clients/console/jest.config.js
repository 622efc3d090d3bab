/** Unit tests of this package (run from the root with `npm test`, or alone with `npx jest` here). */
module.exports = require('../../jest.preset.js').unitProject(__dirname);
