// A shared library that is not a OneWindow plugin: it exports a function, no declaration.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() {
    return 42;
}
