{
  "targets": [
    {
      "target_name": "ipvs_native",
      "sources": ["src-native/addon.cc", "src-native/socket.cc", "src-native/netns.cc", "src-native/procfs.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED",
        "NAPI_CPP_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-fstack-protector-strong", "-Wall", "-Wextra"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    }
  ]
}
