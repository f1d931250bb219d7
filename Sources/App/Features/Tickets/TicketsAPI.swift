import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/tickets` and its notes, time entries, attachments and history.
enum TicketsAPI {
    static func register(_ api: any RoutesBuilder) {
        let tickets = api.grouped("tickets")
        tickets.get { req async throws -> Response in
            // Written with JSONWriter: the same JSON as the Content encoding, at a fraction of the CPU.
            .json(try await TicketService.listJSON(TicketFilter(req), page: PageRequest(req), by: req.principal, on: req.db))
        }
        tickets.get("count") { req async throws -> CountResult in
            CountResult(count: try await TicketService.count(TicketFilter(req), by: req.principal, on: req.db))
        }
        tickets.post { req async throws -> Response in
            let principal = try req.principal
            let dto = try await TicketService.create(req.content.decode(TicketInput.self), by: principal, on: req.db)
            return try tagged(dto, to: principal, status: .created, location: "/api/v1/tickets/\(dto.id)")
        }
        tickets.get(":id") { req async throws -> Response in
            let principal = try req.principal
            return try tagged(await TicketService.get(req.id("id", TicketService.what), by: principal, on: req.db), to: principal)
        }
        tickets.patch(":id") { req async throws -> Response in
            let id = try req.id("id", TicketService.what)
            let principal = try req.principal
            let dto = try await TicketService.update(
                id, req.content.decode(TicketInput.self), ifMatch: req.headers.first(name: .ifMatch), by: principal, on: req.db)
            return try tagged(dto, to: principal)
        }
        tickets.delete(":id") { req async throws -> HTTPStatus in
            try await TicketService.delete(
                req.id("id", TicketService.what), ifMatch: req.headers.first(name: .ifMatch), by: req.principal, on: req.db, blobs: req.settings.blobs)
            return .noContent
        }
        tickets.get(":id", "history") { req async throws -> ListPage<AuditEventDTO> in
            try await TicketService.history(req.id("id", TicketService.what), page: PageRequest(req), by: req.principal, on: req.db)
        }

        let notes = tickets.grouped(":id", "notes")
        notes.get { req async throws -> ListPage<NoteDTO> in
            let (items, next) = try await TicketItems.list(
                Note.self, ticketId: req.id("id", TicketService.what), page: PageRequest(req), by: req.principal, on: req.db)
            return ListPage(items: items.map(NoteDTO.init), nextCursor: next)
        }
        notes.post { req async throws -> Response in
            let dto = try await TicketItemWrites.createNote(
                ticketId: req.id("id", TicketService.what), req.content.decode(NoteInput.self), by: req.principal, on: req.db)
            return try await dto.encodeResponse(status: .created, for: req)
        }
        notes.get(":itemId") { req async throws -> NoteDTO in
            NoteDTO(
                try await TicketItems.visible(
                    Note.self, ticketId: req.id("id", TicketService.what), id: req.id("itemId", Note.what), by: req.principal, on: req.db))
        }
        notes.patch(":itemId") { req async throws -> NoteDTO in
            try await TicketItemWrites.updateNote(
                ticketId: req.id("id", TicketService.what), id: req.id("itemId", Note.what), req.content.decode(NoteInput.self), by: req.principal, on: req.db)
        }
        notes.delete(":itemId") { req async throws -> HTTPStatus in
            _ = try await TicketItems.delete(
                Note.self, ticketId: req.id("id", TicketService.what), id: req.id("itemId", Note.what), by: req.principal, on: req.db
            ) { NoteDTO($0) }
            return .noContent
        }

        let timeEntries = tickets.grouped(":id", "time-entries")
        timeEntries.get { req async throws -> ListPage<TimeEntryDTO> in
            let ticketId = try req.id("id", TicketService.what), principal = try req.principal
            let (items, next) = try await TicketItems.list(TimeEntry.self, ticketId: ticketId, page: PageRequest(req), by: principal, on: req.db)
            let organizationId = try await TicketService.visible(ticketId, by: principal, on: req.db).organizationId
            return ListPage(items: items.map { TimeEntryDTO($0).shown(to: principal, organizationId: organizationId) }, nextCursor: next)
        }
        timeEntries.post { req async throws -> Response in
            let dto = try await TicketItemWrites.createTimeEntry(
                ticketId: req.id("id", TicketService.what), req.content.decode(TimeEntryInput.self), by: req.principal, on: req.db)
            return try await dto.encodeResponse(status: .created, for: req)
        }
        timeEntries.get(":itemId") { req async throws -> TimeEntryDTO in
            let ticketId = try req.id("id", TicketService.what), principal = try req.principal
            let entry = try await TicketItems.visible(TimeEntry.self, ticketId: ticketId, id: req.id("itemId", TimeEntry.what), by: principal, on: req.db)
            let organizationId = try await TicketService.visible(ticketId, by: principal, on: req.db).organizationId
            return TimeEntryDTO(entry).shown(to: principal, organizationId: organizationId)
        }
        timeEntries.patch(":itemId") { req async throws -> TimeEntryDTO in
            try await TicketItemWrites.updateTimeEntry(
                ticketId: req.id("id", TicketService.what), id: req.id("itemId", TimeEntry.what), req.content.decode(TimeEntryInput.self), by: req.principal,
                on: req.db)
        }
        timeEntries.delete(":itemId") { req async throws -> HTTPStatus in
            _ = try await TicketItems.delete(
                TimeEntry.self, ticketId: req.id("id", TicketService.what), id: req.id("itemId", TimeEntry.what), by: req.principal, on: req.db
            ) { TimeEntryDTO($0) }
            return .noContent
        }

        let attachments = tickets.grouped(":id", "attachments")
        attachments.get { req async throws -> ListPage<AttachmentDTO> in
            let (items, next) = try await TicketItems.list(
                Attachment.self, ticketId: req.id("id", TicketService.what), page: PageRequest(req), by: req.principal, on: req.db)
            return ListPage(items: items.map(AttachmentDTO.init), nextCursor: next)
        }
        // Base64 grows the bytes by a third: a 10 MB file needs a ~14 MB body.
        attachments.on(.POST, body: .collect(maxSize: "15mb")) { req async throws -> Response in
            let dto = try await TicketItemWrites.createAttachment(
                ticketId: req.id("id", TicketService.what), req.content.decode(AttachmentInput.self), by: req.principal, on: req.db, blobs: req.settings.blobs)
            return try await dto.encodeResponse(status: .created, for: req)
        }
        attachments.get(":itemId") { req async throws -> AttachmentDTO in
            AttachmentDTO(
                try await TicketItems.visible(
                    Attachment.self, ticketId: req.id("id", TicketService.what), id: req.id("itemId", Attachment.what), by: req.principal, on: req.db))
        }
        attachments.get(":itemId", "content") { req async throws -> Response in
            let attachment = try await TicketItems.visible(
                Attachment.self, ticketId: req.id("id", TicketService.what), id: req.id("itemId", Attachment.what), by: req.principal, on: req.db)
            guard let data = try await req.settings.blobs.get(attachment.blobKey, on: req.db) else { throw TandemError.notFound(Attachment.what) }
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: .contentType, value: attachment.contentType)
            headers.setAttachment(filename: attachment.filename)
            headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
            return Response(status: .ok, headers: headers, body: .init(data: data))
        }
        attachments.patch(":itemId") { req async throws -> AttachmentDTO in
            try await TicketItemWrites.updateAttachment(
                ticketId: req.id("id", TicketService.what), id: req.id("itemId", Attachment.what), req.content.decode(AttachmentInput.self), by: req.principal,
                on: req.db)
        }
        attachments.delete(":itemId") { req async throws -> HTTPStatus in
            let attachment = try await TicketItems.delete(
                Attachment.self, ticketId: req.id("id", TicketService.what), id: req.id("itemId", Attachment.what), by: req.principal, on: req.db
            ) { AttachmentDTO($0) }
            try? await req.settings.blobs.delete(attachment.blobKey, on: req.db)
            return .noContent
        }
    }

    /// A ticket response with its ETag, with the fields `principal` is shown.
    static func tagged(_ dto: TicketDTO, to principal: Principal, status: HTTPStatus = .ok, location: String? = nil) throws -> Response {
        let response = Response.json(ShownTicket(dto, to: principal), status: status)
        response.headers.replaceOrAdd(name: .eTag, value: "\"\(dto.version)\"")
        if let location { response.headers.replaceOrAdd(name: .location, value: location) }
        return response
    }
}
