{
  "targets": [
    {
      "target_name": "wharf_native",
      "sources": ["wharf_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lpthread"]
    }
  ]
}
