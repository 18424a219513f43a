import XCTest

@testable import WSGate

final class ASCIITests: XCTestCase {
    /// RFC 9110 section 5.6.2: `tchar` is letters, digits and `!#$%&'*+-.^_\`|~`; a token has one or more.
    func testHTTPTokens() {
        XCTAssertTrue("permessage-deflate".isHTTPToken)
        XCTAssertTrue("X-Custom_Header.1!#$%&'*+^`|~".isHTTPToken)
        for notToken in ["", "a b", "a:b", "a\"b", "a,b", "a;b", "a=b", "(a)", "a\r\n", "é", "a/b"] {
            XCTAssertFalse(notToken.isHTTPToken, notToken)
        }
    }
}
