// Before any test: bring the compiled package (build/) up to date, incrementally. The CLI tests run
// bin/nmi-lab.js and the notebooks import 'nmi-lab', both of which load build/, so they always test
// the sources as they are now.
'use strict';
const { build } = require('../scripts/build');

module.exports = function globalSetup() {
  build();
};
