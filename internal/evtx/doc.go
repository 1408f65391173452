// Package evtx owns reading Windows XML Event Log (.evtx) files in pure Go:
// the file header, the 64 KiB chunks with their checksums, and the binary
// XML of each record (templates, substitutions and every value type), turned
// into logevent.Events.
//
// Reading streams one chunk at a time, so memory stays bounded by a chunk
// and its templates whatever the file size; ParallelEvents decodes chunks on
// several cores when the order of chunks does not matter. Chunks are read in
// file order (a log that wrapped around starts mid-file; callers sort by
// time). A damaged chunk or record is
// reported as an *Error naming the file and byte offset and reading goes on
// with the next record; a record is only emitted when its binary XML decoded
// to the end without error, so damage never turns into silent garbage.
//
// Event mapping: Product "windows", Channel/Provider/EventID/Host (Computer)
// from System, Time from System/TimeCreated (the record's written time when
// absent), RecordID from System/EventRecordID (what Event Viewer shows; the
// record header's number when absent), Offset the record's byte offset in
// the file. Service is the channel's Sigma service (ServiceForChannel);
// Category is set for Sysmon event ids only. Fields hold EventData's Data
// elements by Name, typed: integers as int64 (uint64 above MaxInt64),
// floats as float64, booleans as bool, and as strings in Windows' own
// rendering: GUID "{XXXXXXXX-...}", SID "S-1-5-18", hex integers and
// sizes "0x1f", binary as upper-case hex, FILETIME/SYSTEMTIME as
// "2006-01-02T15:04:05.0000000Z". Arrays become []any. Data elements
// without a Name become Data1, Data2, ... and all of them together Data
// (the value itself when there is one). UserData's leaf elements become
// fields by their element name; EventData's Binary element the field
// Binary. System's Level, Task, Opcode and Keywords, which some rules name,
// are fields too unless EventData has a field of the same name.
package evtx
