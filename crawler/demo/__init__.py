"""The bundled demo site: a small Chinese policy-news site written for newsmon, served on
127.0.0.1 for the offline demo, the tests and the benchmarks."""
