#include "xc/protocol/event.h"

namespace xc::protocol {

const char* EventTypeName(EventType t) {
  switch (t) {
    case EventType::kAccepted: return "Accepted";
    case EventType::kRejected: return "Rejected";
    case EventType::kTrade: return "Trade";
    case EventType::kCancelled: return "Cancelled";
    case EventType::kExpired: return "Expired";
    case EventType::kAmended: return "Amended";
    case EventType::kTriggered: return "Triggered";
    case EventType::kLevelChanged: return "LevelChanged";
  }
  return "Unknown";
}

}  // namespace xc::protocol
