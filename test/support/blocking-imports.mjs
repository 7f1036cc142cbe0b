// Host imports whose `log` never returns: what a blocking host function looks like to the engine.
export default {
  host: {
    log: () => {
      for (;;) {}
    },
  },
};
