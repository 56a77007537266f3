"""Grammar-constrained sampling for llama-cpp-python at nearly the cost of unconstrained sampling.

llama-cpp-python puts the grammar sampler first in its chain, so every token checks all ~152k vocabulary entries
against the grammar: on this 2-core machine that costs ~35 ms per token, about 40% of generation time. llama.cpp's
own `common_sampler` avoids it: sample without the grammar, check only the chosen token, and run the full grammar
pass only when that token is rejected. `enable_lazy_grammar(llama)` makes a loaded `Llama` do the same. The output
is still guaranteed to match the grammar. Written against llama-cpp-python 0.3.x's sampler API (pinned).
"""

from __future__ import annotations

import ctypes
import math
import types
from typing import Any

import numpy as np
from llama_cpp import llama_cpp
from llama_cpp._internals import LlamaContext, LlamaSampler

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class LazyGrammarSampler:
    """Duck-types `LlamaSampler.sample/close` for `Llama.sample`: the chain without grammar, then a check."""

    def __init__(self, chain: LlamaSampler, vocab: Any, grammar: Any, n_vocab: int) -> None:
        self.chain = chain
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self.grammar:
            raise ValueError("llama.cpp rejected the grammar")
        self.n_vocab = n_vocab
        self._buffer = (llama_cpp.llama_token_data * n_vocab)()
        self._view = np.ctypeslib.as_array(self._buffer).view(_TOKEN_DATA)
        self._ids = np.arange(n_vocab, dtype=np.intc)
        self._one = (llama_cpp.llama_token_data * 1)()

    def _candidates(self, ctx: LlamaContext, idx: int) -> llama_cpp.llama_token_data_array:
        logits = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        self._view["id"] = self._ids
        self._view["logit"] = np.ctypeslib.as_array(logits, shape=(self.n_vocab,))
        self._view["p"] = 0.0
        return llama_cpp.llama_token_data_array(data=self._buffer, size=self.n_vocab, selected=-1, sorted=False)

    def _allowed(self, token: int) -> bool:
        self._one[0].id, self._one[0].logit, self._one[0].p = token, 0.0, 0.0
        single = llama_cpp.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(single))
        return not math.isinf(single.data[0].logit)

    def sample(self, ctx: LlamaContext, idx: int = -1) -> int:
        candidates = self._candidates(ctx, idx)
        llama_cpp.llama_sampler_apply(self.chain.sampler, ctypes.byref(candidates))
        token = candidates.data[candidates.selected].id
        if not self._allowed(token):
            # Rare: the model's pick breaks the grammar, so pay for the full pass this once.
            candidates = self._candidates(ctx, idx)
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
            llama_cpp.llama_sampler_apply(self.chain.sampler, ctypes.byref(candidates))
            token = candidates.data[candidates.selected].id
        llama_cpp.llama_sampler_accept(self.grammar, token)
        llama_cpp.llama_sampler_accept(self.chain.sampler, token)
        return token

    def close(self) -> None:
        if self.grammar:
            llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None
        self.chain.close()

    def __del__(self) -> None:
        self.close()


def enable_lazy_grammar(llama: Any) -> None:
    """Patch one loaded `Llama` so every grammar-constrained generation samples lazily."""
    original = llama._init_sampler

    def init_sampler(self: Any, *args: Any, grammar: Any = None, **kwargs: Any) -> Any:
        chain = original(*args, grammar=None, **kwargs)
        if grammar is None:
            return chain
        return LazyGrammarSampler(chain, self._model.vocab, grammar, self._n_vocab)

    llama._init_sampler = types.MethodType(init_sampler, llama)
