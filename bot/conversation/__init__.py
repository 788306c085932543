"""The platform-neutral conversation: what Kairos says back to what people say."""

from bot.conversation.chat import ChatConversation, Runner
from bot.conversation.context import ConversationContext

__all__ = ["ChatConversation", "ConversationContext", "Runner"]
