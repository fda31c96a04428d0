"""Model plumbing the stages share: prompt rendering, batching, llama.cpp loading, CPU kernels."""
