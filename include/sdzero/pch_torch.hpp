// Precompiled header for the torch-using layers (model, algo, ckpt, dist, pipeline, app).
// One TU including <torch/torch.h> costs 11-21 s; with this PCH about 4 s (DESIGN.md).
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include <memory>
