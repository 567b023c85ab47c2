// The XML that 公安局's interface exchanges is records of flat fields (<SQXX><SBLSH>..</SBLSH>
// ...</SQXX>, a list of <JL> records in an answer). This is a strict reader of exactly that
// subset, and the escaping for writing it.
//
// Strict on purpose: the department's answers cross a network boundary, and a general XML
// parser brings DTDs, entity expansion (billion laughs) and external entities (file or network
// reads). Here a DOCTYPE, an entity other than the five predefined ones and character
// references, a processing instruction other than the declaration, an encoding other than
// UTF-8, invalid UTF-8, characters XML 1.0 forbids, mixed content, and anything over the size,
// depth or element limits are refused with where and why.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ow::adapters::gongan {

class XmlError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct XmlLimits {
    std::size_t maxBytes = 1 << 20;
    int maxDepth = 8;
    std::size_t maxElements = 50000;
};

/// An element: its text (leaves) or its children (records), never both. Attributes are read
/// and checked but not kept: the department's records carry everything in elements.
struct XmlElement {
    std::string name;
    std::string text;
    std::vector<XmlElement> children;

    /// The first child named `name`, nullptr if none.
    [[nodiscard]] const XmlElement* child(std::string_view childName) const;
    /// The text of the first child named `name`, "" if none.
    [[nodiscard]] std::string childText(std::string_view childName) const;
};

/// The document's root element. Throws XmlError ("line L, column C: why") on anything outside
/// the subset above.
XmlElement parseXml(std::string_view document, const XmlLimits& limits = {});

/// `text` for an element's content or an attribute value: & < > " ' escaped. Throws XmlError
/// for invalid UTF-8 or a character XML 1.0 cannot carry (control characters but tab, LF, CR).
std::string xmlEscape(std::string_view text);

/// Writes <name>escaped text</name> (or <name/> when empty) to `out`.
void appendElement(std::string& out, std::string_view name, std::string_view text);

} // namespace ow::adapters::gongan
