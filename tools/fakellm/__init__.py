"""A scripted fake LLM server on 127.0.0.1 speaking Anthropic Messages, OpenAI Chat Completions
and OpenAI Responses, so tests drive the real SDKs over real HTTP without a network or a key.

    with FakeLLM([{"text": "hi"}]) as srv:
        anthropic.Anthropic(base_url=srv.base_url, api_key="test-key")
"""

from tools.fakellm.script import load_script
from tools.fakellm.server import FakeLLM, RecordedRequest, wait_for_port

__all__ = ["FakeLLM", "RecordedRequest", "load_script", "wait_for_port"]
