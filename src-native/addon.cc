// The addon's exports: a handful of flat verbs, typed in src/native.ts.
#include <napi.h>

#include "procfs.h"
#include "socket.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // The environment owns the constructor reference and deletes it at teardown.
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(ipvs::Socket::Class(env))));
  exports.Set("open", Napi::Function::New(env, ipvs::Open, "open"));
  exports.Set("transact", Napi::Function::New(env, ipvs::Transact, "transact"));
  exports.Set("cancel", Napi::Function::New(env, ipvs::Cancel, "cancel"));
  exports.Set("close", Napi::Function::New(env, ipvs::Close, "close"));
  exports.Set("portId", Napi::Function::New(env, ipvs::PortId, "portId"));
  exports.Set("rcvbuf", Napi::Function::New(env, ipvs::Rcvbuf, "rcvbuf"));
  exports.Set("subscribe", Napi::Function::New(env, ipvs::Subscribe, "subscribe"));
  exports.Set("receive", Napi::Function::New(env, ipvs::Receive, "receive"));
  exports.Set("openFile", Napi::Function::New(env, ipvs::OpenFile, "openFile"));
  exports.Set("readDir", Napi::Function::New(env, ipvs::ReadDir, "readDir"));
  return exports;
}

}  // namespace

NODE_API_MODULE(ipvs_native, Init)
