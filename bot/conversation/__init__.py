"""The platform-neutral conversation: what Kairos says back to what people say."""

from bot.conversation.chat import ChatConversation
from bot.conversation.context import ConversationContext
from bot.conversation.speaker import Runner

__all__ = ["ChatConversation", "ConversationContext", "Runner"]
