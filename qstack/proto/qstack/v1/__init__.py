"""Generated protobuf code; see tools/gen_protos.py. Do not edit."""
